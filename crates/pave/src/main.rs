//! The `pave` binary: everything lives in `pave-cli`.

fn main() -> std::process::ExitCode {
    pave_cli::main(std::env::args_os())
}
