//! The `svcc` binary: a thin shell around the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
