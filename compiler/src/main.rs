//! The `svcc` binary: a thin shell around the library.

mod cli;

/// mimalloc instead of the system allocator: svcc allocates many small
/// strings and maps per object, and the system allocator was a quarter of
/// the instructions of a large build (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
