//! Runs the fuzz target `PAVE_FUZZ_TARGET` under AFL++ (persistent mode: many inputs per
//! process).

fn main() {
    let name = std::env::var("PAVE_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = pave_fuzz::target(&name) else {
        let names: Vec<&str> = pave_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("set PAVE_FUZZ_TARGET to one of: {}", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
