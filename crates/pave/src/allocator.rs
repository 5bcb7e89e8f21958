//! Allocator settings per command.
//!
//! mimalloc's defaults (transparent huge pages, eagerly committed arenas, purging freed memory
//! after a delay) suit a short batch job such as `pave check`, which is a quarter faster with
//! them. A server is judged by its resident memory instead: with the defaults `pave serve`
//! holds about 130 MB for an 11,700-entity catalog, with huge pages off, lazy commit and
//! immediate purging about 75 MB, at no measurable cost to load time or latency.
//!
//! mimalloc reads its options from the environment once, before `main`, so a server command
//! sets them and re-executes itself (the same process, image replaced). Options the user set
//! are kept.

/// The options for long-running commands.
const SERVER_OPTIONS: [(&str, &str); 3] = [
    ("MIMALLOC_ALLOW_THP", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

/// Commands that keep running and serve requests.
const SERVER_COMMANDS: [&str; 2] = ["serve", "demo"];

/// Re-executes this process with [`SERVER_OPTIONS`] when the command is a server and the
/// options are not set yet; returns (and pave runs as it is) otherwise or if that fails.
pub(crate) fn tune_for_long_running_commands() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !is_server_command(&args)
        || SERVER_OPTIONS
            .iter()
            .any(|(k, _)| std::env::var_os(k).is_some())
    {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        // `exec` only returns on failure; pave then runs with the defaults.
        let _ = std::process::Command::new(exe)
            .arg0(args.first().cloned().unwrap_or_default())
            .args(args.iter().skip(1))
            .envs(SERVER_OPTIONS)
            .exec();
    }
}

/// Whether the first argument that is not an option (or an option's value) names a server
/// command. Global options with values (`--database-url URL`) come before it.
fn is_server_command(args: &[std::ffi::OsString]) -> bool {
    const WITH_VALUE: [&str; 6] = [
        "--database-url",
        "--config",
        "--output",
        "--log-format",
        "--log",
        "-o",
    ];
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let Some(arg) = arg.to_str() else {
            return false;
        };
        if WITH_VALUE.contains(&arg) {
            rest.next();
        } else if !arg.starts_with('-') {
            return SERVER_COMMANDS.contains(&arg);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::is_server_command;

    fn args(line: &str) -> Vec<std::ffi::OsString> {
        line.split(' ').map(Into::into).collect()
    }

    #[test]
    fn only_server_commands_are_tuned() {
        assert!(is_server_command(&args("pave serve --addr 127.0.0.1:7007")));
        assert!(is_server_command(&args(
            "pave --database-url sqlite://x.db demo"
        )));
        assert!(is_server_command(&args("pave -o json serve")));
        assert!(!is_server_command(&args("pave check serve")));
        assert!(!is_server_command(&args("pave --config serve check")));
        assert!(!is_server_command(&args("pave")));
    }
}
