//! The `pave` binary: everything lives in `pave-cli`.

// pave allocates many small, short-lived objects (parsed documents, findings, JSON); mimalloc
// takes about a quarter off `pave check` and catalog loading compared with glibc malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod allocator;

fn main() -> std::process::ExitCode {
    allocator::tune_for_long_running_commands();
    pave_cli::main(std::env::args_os())
}
