//! One encoder per place a value lands in generated text, so that a value
//! is always data there, never code:
//!
//! | sink | encoder | handlebars helper |
//! |---|---|---|
//! | a shell word (`deploy.sh`) | [`shell`]: single quotes, `'` as `'\''` | `{{sh value}}` |
//! | a Dockerfile exec-form array (`HEALTHCHECK`, `CMD`) | [`exec_form`]: a JSON array | — (built in Rust) |
//! | a JSON string (exec-form parts, user templates) | [`json`] | `{{json value}}` |
//! | the workflow | typed structs through the YAML emitter; shell reads spec values only as `"$NAME"` from `env:` | — |
//!
//! Values are also validated for what they are before they get here
//! (URL paths, versions, DNS names, the spec's file name), so an encoder is
//! the second line of defence, not the only one.

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};

/// `s` as one shell word: inside single quotes nothing is special, and a
/// single quote is closed, escaped and reopened. NUL cannot be in a shell
/// word at all, so it is dropped (no value svcc accepts holds one).
pub fn shell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars().filter(|c| *c != '\0') {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `s` as a JSON string literal (quotes included).
pub fn json(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A Dockerfile exec-form array, `["a", "b"]`: Docker reads it as JSON and
/// runs the program without a shell, so no argument is ever interpreted.
pub fn exec_form(args: &[&str]) -> String {
    let parts: Vec<String> = args.iter().map(|a| json(a)).collect();
    format!("[{}]", parts.join(", "))
}

/// Register `sh` and `json` on a handlebars registry.
pub fn register(hb: &mut Handlebars<'_>) {
    hb.register_helper(
        "sh",
        Box::new(
            |h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output| -> HelperResult {
                out.write(&shell(&param_text(h, "sh")?))?;
                Ok(())
            },
        ),
    );
    hb.register_helper(
        "json",
        Box::new(
            |h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output| -> HelperResult {
                out.write(&json(&param_text(h, "json")?))?;
                Ok(())
            },
        ),
    );
}

/// The helper's one parameter as text (numbers and booleans as written).
fn param_text(h: &Helper, name: &'static str) -> Result<String, RenderErrorReason> {
    let v = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?.value();
    Ok(match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
        _ => return Err(RenderErrorReason::InvalidParamType("a string, number or boolean")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_inert() {
        assert_eq!(shell("plain"), "'plain'");
        assert_eq!(shell("it's"), "'it'\\''s'");
        assert_eq!(shell("$(touch x)`y`\n\"z\""), "'$(touch x)`y`\n\"z\"'");
        assert_eq!(shell(""), "''");
    }

    #[test]
    fn exec_form_is_a_json_array() {
        assert_eq!(exec_form(&["wget", "http://x/\"a\"\n"]), r#"["wget", "http://x/\"a\"\n"]"#);
        let parsed: Vec<String> = serde_json::from_str(&exec_form(&["a b", "c\\d"])).unwrap();
        assert_eq!(parsed, ["a b", "c\\d"]);
    }
}
