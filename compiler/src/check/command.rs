//! `command` and `args`: the container's program, replacing the image's
//! `ENTRYPOINT` and `CMD`. Both replace as a whole list in
//! `merge::layer`; nothing is defaulted (the image's own apply).

use crate::source::Spanned;

/// The command and the arguments, when the spec gives them.
pub(super) fn resolve(
    command: &Option<Spanned<Vec<String>>>,
    args: &Option<Spanned<Vec<String>>>,
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let list = |v: &Option<Spanned<Vec<String>>>| v.as_ref().map(|c| c.value.clone());
    (list(command), list(args))
}
