//! The Create page's push (`pave serve --create-push-url`): the rendered repository is
//! written to a scratch folder, committed with the git CLI and pushed as the branch
//! `pave/new-<name>` to the URL the operator configured, `{name}` replaced by the new
//! repository's name.
//!
//! What the server guarantees, since this writes outside pave:
//!
//! - **Nothing from a user reaches git as an option or a URL of their choosing.** The URL is
//!   the operator's; only `{name}` comes from the form, and it must be a plain repository
//!   name ([`check_name`]). The branch is derived from it. Rendered paths never include
//!   `.git` (pave-template refuses them; checked again here), hooks are off
//!   (`core.hooksPath=/dev/null`), and git never prompts.
//! - **Bounded.** At most [`MAX_PUSHES`] at once (then 503); the whole push, every git
//!   command together, within `--create-push-timeout`; a git that overruns is killed with
//!   the helpers it started (ssh, remote helpers: its process group).
//! - **Nothing leaks.** Messages shown or audited never carry the URL's credentials
//!   (`https://user:token@…` is shown as `https://…`) nor the scratch folder's path.
//! - **Nothing is overwritten.** The push is not forced: a branch that exists already at the
//!   target is a refusal, not a replacement.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pave_template::Rendered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pushes running at once on one server; more are answered 503.
pub(crate) const MAX_PUSHES: usize = 2;

/// `--create-push-timeout`'s default: the whole push, every git command together.
pub const DEFAULT_PUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// The committer (and author, when the requester has no e-mail address in the catalog)
/// unless `--create-push-identity` says otherwise.
pub const DEFAULT_PUSH_IDENTITY: &str = "pave <pave@localhost>";

/// Most of git's output kept per command (the rest is read and dropped).
const OUTPUT_LIMIT: u64 = 64 * 1024;

/// The longest repository name accepted for the URL.
const MAX_NAME: usize = 100;

/// Where and how the Create page pushes new repositories.
#[derive(Debug, Clone)]
pub struct CreatePush {
    url_template: String,
    committer: GitIdentity,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

impl CreatePush {
    /// Checks the settings: a URL (`file://`, `ssh://`, `https://`, `http://`, `git://`,
    /// `user@host:path` or an absolute path) holding `{name}`, an identity written
    /// `Name <email>`, and a timeout above zero.
    ///
    /// # Errors
    /// Which setting is wrong and why.
    pub fn new(
        url_template: &str,
        identity: Option<&str>,
        timeout: Duration,
    ) -> Result<CreatePush, String> {
        check_url_template(url_template)?;
        let committer = GitIdentity::parse(identity.unwrap_or(DEFAULT_PUSH_IDENTITY))
            .map_err(|e| format!("--create-push-identity: {e}"))?;
        if timeout.is_zero() {
            return Err("--create-push-timeout: must be more than 0".to_owned());
        }
        Ok(CreatePush {
            url_template: url_template.to_owned(),
            committer,
            timeout,
            slots: Arc::new(Semaphore::new(MAX_PUSHES)),
        })
    }

    /// The URL pushed to for the repository `name` (credentials included: for git only).
    fn target(&self, name: &str) -> String {
        self.url_template.replace("{name}", name)
    }

    /// The URL as pages, logs and the audit trail show it: without credentials.
    pub(crate) fn shown_target(&self, name: &str) -> String {
        strip_credentials(&self.target(name))
    }

    pub(crate) fn committer(&self) -> &GitIdentity {
        &self.committer
    }

    /// A slot for one push, if fewer than [`MAX_PUSHES`] are running.
    pub(crate) fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.slots).try_acquire_owned().ok()
    }
}

fn check_url_template(url: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--create-push-url `{url}`: {why}"));
    if !url.contains("{name}") {
        return bad("it must contain {name}, the new repository's name");
    }
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("no spaces or control characters, at most 2,048 characters");
    }
    if url.starts_with('-') {
        return bad("it must not start with `-`");
    }
    let known = ["file://", "ssh://", "https://", "http://", "git://"];
    let lower = url.to_ascii_lowercase();
    let scheme_ok = known.iter().any(|s| lower.starts_with(s));
    // scp-like `git@host:org/repo.git`: a colon before any slash, and no `::` (git's
    // `transport::address` remote-helper syntax, such as `ext::`).
    let scp_like = !url.contains("://")
        && !url.contains("::")
        && url
            .find(':')
            .is_some_and(|colon| url.find('/').is_none_or(|slash| colon < slash) && colon > 0);
    if !(scheme_ok || scp_like || url.starts_with('/')) {
        return bad(
            "use file://, ssh://, https://, http://, git://, user@host:path or an absolute path",
        );
    }
    Ok(())
}

/// A commit's author or committer: git's `Name <email>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitIdentity {
    pub(crate) name: String,
    pub(crate) email: String,
}

impl GitIdentity {
    /// Reads `Name <email>`.
    pub(crate) fn parse(text: &str) -> Result<GitIdentity, String> {
        let text = text.trim();
        let (name, rest) = text
            .split_once('<')
            .ok_or_else(|| format!("`{text}`: write it as `Name <email>`"))?;
        let email = rest
            .strip_suffix('>')
            .ok_or_else(|| format!("`{text}`: write it as `Name <email>`"))?;
        GitIdentity::new(name, email).ok_or_else(|| {
            format!(
                "`{text}`: needs a name and an e-mail address, without <, > or control characters"
            )
        })
    }

    /// `name` and `email` if git would take them as they are (no `<`, `>`, control
    /// characters; not empty; at most 200 characters each).
    pub(crate) fn new(name: &str, email: &str) -> Option<GitIdentity> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars().count() <= 200
                && !s.chars().any(|c| c.is_control() || c == '<' || c == '>')
        };
        let (name, email) = (name.trim(), email.trim());
        (ok(name) && ok(email) && email.contains('@') && !email.contains(char::is_whitespace)).then(
            || GitIdentity {
                name: name.to_owned(),
                email: email.to_owned(),
            },
        )
    }

    pub(crate) fn shown(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// The branch pushed for the new repository `name`.
pub(crate) fn branch_for(name: &str) -> String {
    format!("pave/new-{name}")
}

/// Whether `name` may go into the push URL and a branch name: letters, digits, `-`, `_`
/// and `.`, starting with a letter or digit, at most 100 characters, no `..`, not ending
/// in `.git`, `.lock` or `.`. Nothing else is pasted into a URL.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("`{name}` cannot name the pushed repository: {why}"));
    if name.is_empty() || name.len() > MAX_NAME {
        return refuse(&format!("use 1 to {MAX_NAME} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return refuse("use letters, digits, `-`, `_` and `.` only");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return refuse("start with a letter or a digit");
    }
    let lower = name.to_ascii_lowercase();
    if name.contains("..")
        || lower.ends_with(".git")
        || lower.ends_with(".lock")
        || name.ends_with('.')
    {
        return refuse("no `..`, and no `.git`, `.lock` or `.` at the end");
    }
    Ok(())
}

/// What to push.
pub(crate) struct PushRequest<'a> {
    pub(crate) files: &'a Rendered,
    /// The new repository's name (checked with [`check_name`]).
    pub(crate) name: &'a str,
    pub(crate) author: GitIdentity,
    pub(crate) message: String,
}

/// A push that went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pushed {
    pub(crate) branch: String,
    /// The URL, without credentials.
    pub(crate) target: String,
    pub(crate) commit: String,
}

/// Why a push did not happen; every message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The name cannot go into the URL.
    Name(String),
    /// The server could not prepare the commit (a full disk, no git): details are logged.
    Setup(String),
    /// Past `--create-push-timeout`.
    TimedOut(Duration),
    /// The target refused the branch (it exists already).
    Rejected(String),
    /// git failed (the target cannot be reached, is no repository, refused the credentials).
    Failed(String),
}

impl PushError {
    pub(crate) fn message(&self) -> String {
        match self {
            PushError::Name(message) => message.clone(),
            PushError::Setup(message) => {
                format!("The server could not prepare the commit: {message}.")
            }
            PushError::TimedOut(limit) => format!(
                "The push did not finish within {} s (--create-push-timeout) and was stopped; the branch may not have reached the target.",
                limit.as_secs()
            ),
            PushError::Rejected(message) | PushError::Failed(message) => message.clone(),
        }
    }
}

/// Commits `request.files` in a scratch repository and pushes them to the configured
/// target as [`branch_for`]`(name)`. Blocking (git runs as a child process); call it off
/// the async threads.
pub(crate) fn push(config: &CreatePush, request: &PushRequest<'_>) -> Result<Pushed, PushError> {
    check_name(request.name).map_err(PushError::Name)?;
    if let Some(path) = request
        .files
        .keys()
        .find(|p| p.split('/').any(|part| part.eq_ignore_ascii_case(".git")))
    {
        return Err(PushError::Setup(format!(
            "the template rendered `{path}`, inside .git"
        )));
    }
    let deadline = Instant::now() + config.timeout;
    let scratch = tempfile::Builder::new()
        .prefix("pave-create-")
        .tempdir()
        .map_err(|e| setup("cannot create a scratch folder", &e))?;
    let work = scratch.path().join("repository");
    pave_template::write::write_new(&work, request.files, false)
        .map_err(|e| setup("cannot write the rendered files", &e))?;
    let branch = branch_for(request.name);
    let target = config.target(request.name);
    let shown = config.shown_target(request.name);
    let git = Git {
        dir: &work,
        deadline,
        timeout: config.timeout,
        scrub: Scrub {
            secret_url: target.clone(),
            shown_url: shown.clone(),
            scratch: scratch.path().display().to_string(),
        },
        author: &request.author,
        committer: &config.committer,
    };
    git.run(&["init", "--quiet"])?;
    git.run(&["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")])?;
    git.run(&["add", "--all"])?;
    git.run(&[
        "commit",
        "--quiet",
        "--no-verify",
        "--allow-empty",
        "-m",
        &request.message,
    ])?;
    let commit = git.run(&["rev-parse", "HEAD"])?.trim().to_owned();
    let refspec = format!("HEAD:refs/heads/{branch}");
    match git.run(&["push", "--quiet", "--", &target, &refspec]) {
        Ok(_) => Ok(Pushed {
            branch,
            target: shown,
            commit,
        }),
        Err(PushError::Failed(message)) if is_rejection(&message) => {
            Err(PushError::Rejected(format!(
                "The branch {branch} exists at {shown} already (the push is never forced): choose another name, or delete that branch first."
            )))
        }
        Err(PushError::Failed(message)) => {
            let hint = if is_missing_repository(&message) {
                " (pave pushes a branch into a repository that exists: create it at the target first, unless the forge creates repositories on push)"
            } else {
                ""
            };
            Err(PushError::Failed(format!(
                "git push to {shown} failed: {message}{hint}"
            )))
        }
        Err(other) => Err(other),
    }
}

fn setup(what: &str, error: &dyn std::fmt::Display) -> PushError {
    tracing::error!(%error, "create push: {what}");
    PushError::Setup(what.to_owned())
}

/// git's words for a push the remote refused because the branch exists.
fn is_rejection(message: &str) -> bool {
    [
        "[rejected]",
        "non-fast-forward",
        "fetch first",
        "already exists",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// git's words (and forges') for a target repository that is not there.
fn is_missing_repository(message: &str) -> bool {
    [
        "does not appear to be a git repository",
        "Repository not found",
        "repository not found",
        "not found",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// What git's messages must not show.
struct Scrub {
    /// The URL as configured (credentials included).
    secret_url: String,
    shown_url: String,
    scratch: String,
}

impl Scrub {
    fn apply(&self, text: &str) -> String {
        let mut out = text.replace(&self.secret_url, &self.shown_url);
        if !self.scratch.is_empty() {
            out = out.replace(&self.scratch, ".");
        }
        strip_credentials(&out)
    }
}

/// `text` with the user and password of every `scheme://user:password@host` removed.
pub(crate) fn strip_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(user_end) => rest = &after[user_end + 1..],
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// git in the scratch repository, within the push's deadline.
struct Git<'a> {
    dir: &'a Path,
    deadline: Instant,
    timeout: Duration,
    scrub: Scrub,
    author: &'a GitIdentity,
    committer: &'a GitIdentity,
}

impl Git<'_> {
    fn run(&self, args: &[&str]) -> Result<String, PushError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PushError::TimedOut(self.timeout));
        }
        let stall = (self.timeout.as_secs() / 2).clamp(1, 30);
        let ssh = std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh".to_owned());
        let mut command = Command::new("git");
        command
            .args([
                // Remote helpers such as `ext::` run commands; never wanted.
                "-c",
                "protocol.ext.allow=never",
                // The scratch repository is ours: no hooks, no signing prompts, no template
                // folder copied in from the server's own git configuration.
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "commit.gpgSign=false",
                "-c",
                "init.templateDir=",
                "-c",
                "core.fsmonitor=false",
                "-c",
                "http.followRedirects=false",
                "-c",
                "http.lowSpeedLimit=1000",
                "-c",
            ])
            .arg(format!("http.lowSpeedTime={stall}"))
            .arg("-C")
            .arg(self.dir)
            .args(args)
            .env("GIT_ALLOW_PROTOCOL", "file:ssh:https:http:git")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env(
                "GIT_SSH_COMMAND",
                format!(
                    "{ssh} -o BatchMode=yes -o ConnectTimeout={stall} -o ServerAliveInterval=15 -o ServerAliveCountMax=2"
                ),
            )
            .env("GIT_AUTHOR_NAME", &self.author.name)
            .env("GIT_AUTHOR_EMAIL", &self.author.email)
            .env("GIT_COMMITTER_NAME", &self.committer.name)
            .env("GIT_COMMITTER_EMAIL", &self.committer.email)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so that an overrun kills ssh and the remote helpers too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let what = args.first().copied().unwrap_or("git");
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                setup("the git executable was not found (install git)", &e)
            }
            _ => setup("cannot run git", &e),
        })?;
        let output = wait_or_kill(child, left).map_err(|e| match e {
            Wait::TimedOut => PushError::TimedOut(self.timeout),
            Wait::Failed(e) => setup("cannot wait for git", &e),
        })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = self.scrub.apply(&String::from_utf8_lossy(&output.stderr));
        tracing::warn!(command = what, stderr = %stderr.trim(), "create push: git failed");
        // git's `fatal:`/`error:` lines say what went wrong; a `[rejected]` line says why.
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let said: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("fatal:") || l.starts_with("error:") || l.starts_with("! ["))
            .take(3)
            .collect();
        let message = if said.is_empty() {
            lines.last().copied().unwrap_or("git failed").to_owned()
        } else {
            said.join("; ")
        };
        if what == "push" {
            Err(PushError::Failed(super::super::view::shorten(
                &message, 600,
            )))
        } else {
            Err(setup(&format!("git {what} failed"), &message))
        }
    }
}

enum Wait {
    TimedOut,
    Failed(std::io::Error),
}

/// Waits for `child` at most `limit`, reading its output; past it, kills its process group.
fn wait_or_kill(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<std::process::Output, Wait> {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = (&mut pipe).take(OUTPUT_LIMIT).read_to_end(&mut kept);
                let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            }
            kept
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let group = rustix::process::Pid::from_child(&child);
                if let Err(e) =
                    rustix::process::kill_process_group(group, rustix::process::Signal::KILL)
                {
                    tracing::warn!(error = %e, "create push: cannot kill git's process group");
                    let _ = child.kill();
                }
                let _ = child.wait();
                return Err(Wait::TimedOut);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Wait::Failed(e)),
        }
    };
    Ok(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_urls_are_checked_when_the_server_starts() {
        for good in [
            "file:///srv/git/{name}.git",
            "ssh://git@git.example.com/platform/{name}.git",
            "https://x-access-token:secret@github.com/northwind/{name}.git",
            "git@github.com:northwind/{name}.git",
            "/srv/git/{name}.git",
        ] {
            assert!(
                CreatePush::new(good, None, DEFAULT_PUSH_TIMEOUT).is_ok(),
                "{good}"
            );
        }
        for (bad, why) in [
            ("file:///srv/git/repo.git", "must contain {name}"),
            ("ext::sh -c touch% /tmp/x{name}", "no spaces"),
            ("ext::sh{name}", "use file://"),
            ("-uhttps://x/{name}", "must not start with `-`"),
            ("repo/{name}", "use file://"),
            ("ftp://x/{name}", "use file://"),
        ] {
            let e = CreatePush::new(bad, None, DEFAULT_PUSH_TIMEOUT).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let e =
            CreatePush::new("file:///x/{name}", Some("pave"), DEFAULT_PUSH_TIMEOUT).unwrap_err();
        assert!(e.contains("--create-push-identity"), "{e}");
        let e = CreatePush::new("file:///x/{name}", None, Duration::ZERO).unwrap_err();
        assert!(e.contains("--create-push-timeout"), "{e}");
    }

    #[test]
    fn names_for_the_url_are_plain_repository_names() {
        for good in ["orders", "orders-api", "Orders_2", "a", "lib.core"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "../x", "a/b", "a b", "-x", ".x", "x..y", "x.git", "x.lock", "x.", "x?y=1", "x#y",
            "x@y", "x:y", "é", "x%2fy",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(101)).is_err());
        assert_eq!(branch_for("orders"), "pave/new-orders");
    }

    #[test]
    fn credentials_never_reach_a_message() {
        assert_eq!(
            strip_credentials(
                "fatal: unable to access 'https://x-access-token:s3cr3t@github.com/o/r.git/': 403"
            ),
            "fatal: unable to access 'https://github.com/o/r.git/': 403"
        );
        assert_eq!(
            strip_credentials("ssh://git@host:22/r.git and https://host/x@y"),
            "ssh://host:22/r.git and https://host/x@y"
        );
        assert_eq!(strip_credentials("no url here"), "no url here");
        let push = CreatePush::new(
            "https://bot:tok3n@git.example.com/{name}.git",
            None,
            DEFAULT_PUSH_TIMEOUT,
        )
        .unwrap();
        assert_eq!(
            push.shown_target("orders"),
            "https://git.example.com/orders.git"
        );
    }

    #[test]
    fn identities_are_what_git_takes() {
        let id = GitIdentity::parse("Platform Bot <bot@northwind.example.com>").unwrap();
        assert_eq!(id.name, "Platform Bot");
        assert_eq!(id.email, "bot@northwind.example.com");
        assert_eq!(id.shown(), "Platform Bot <bot@northwind.example.com>");
        for bad in [
            "bot",
            "<bot@x>",
            "Bot <>",
            "Bot <not an address>",
            "A\nB <a@b>",
        ] {
            assert!(GitIdentity::parse(bad).is_err(), "{bad:?}");
        }
        assert!(GitIdentity::new("Jane <x>", "jane@x").is_none());
    }
}
