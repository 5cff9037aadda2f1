//! The `svcc` binary: a thin shell around the library.

mod cli;

/// mimalloc rather than the system's allocator: see its line in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
