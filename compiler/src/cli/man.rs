//! `svcc man`: manual pages (roff) generated from the command-line
//! definition, one for svcc and one per subcommand, named as the main page
//! refers to them (`svcc-build(1)`).

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use svcc::diagnostic::suggest::did_you_mean;

use super::{Cli, EXIT_OK, EXIT_USAGE_OR_IO, err, out};

/// The command as the pages describe it: built (so each subcommand knows
/// its full name), without clap's `help` subcommand, which has no page.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// A page, with svcc's name and version as its source on every page.
fn man_page(page: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(page).source(format!("svcc {}", env!("CARGO_PKG_VERSION")))
}

/// Every page: svcc's, then each subcommand's, in the order `svcc --help`
/// lists them.
fn pages(cmd: &clap::Command) -> Vec<clap::Command> {
    let mut pages = vec![cmd.clone()];
    pages.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    pages
}

/// `svcc man` (svcc.1 to stdout), `svcc man SUBCOMMAND` (that page), or
/// `svcc man --out DIR` (every page into DIR, each path printed).
pub fn man(page: Option<&str>, out_dir: Option<&Path>) -> ExitCode {
    let cmd = command();
    if let Some(dir) = out_dir {
        return write_all(&cmd, dir);
    }
    let chosen = match page {
        None => cmd.clone(),
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) if !sub.is_hide_set() => sub.clone(),
            _ => {
                let names: Vec<&str> =
                    cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(clap::Command::get_name).collect();
                let mut msg = format!("svcc: no manual page for `{name}`\n");
                if let Some(s) = did_you_mean(name, &names) {
                    msg.push_str(&format!("help: did you mean `{s}`?\n"));
                }
                msg.push_str(&format!("pages: svcc, {}\n", names.join(", ")));
                err(&msg);
                return ExitCode::from(EXIT_USAGE_OR_IO);
            }
        },
    };
    let mut buf = Vec::new();
    match man_page(chosen).render(&mut buf) {
        Ok(()) if out(&String::from_utf8_lossy(&buf)) => ExitCode::from(EXIT_OK),
        _ => ExitCode::from(EXIT_USAGE_OR_IO),
    }
}

fn write_all(cmd: &clap::Command, dir: &Path) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        err(&format!("svcc: cannot create `{}`: {e}\n", dir.display()));
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    let mut written = String::new();
    for page in pages(cmd) {
        match man_page(page).generate_to(dir) {
            Ok(path) => written.push_str(&format!("{}\n", path.display())),
            Err(e) => {
                err(&format!("svcc: cannot write a manual page into `{}`: {e}\n", dir.display()));
                return ExitCode::from(EXIT_USAGE_OR_IO);
            }
        }
    }
    ExitCode::from(if out(&written) { EXIT_OK } else { EXIT_USAGE_OR_IO })
}
