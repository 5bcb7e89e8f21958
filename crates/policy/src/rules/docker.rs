//! Dockerfiles: the user the image runs as, base image pinning, `ADD`, secrets in `ENV` and
//! `ARG`, package manager hygiene, `sudo` and `HEALTHCHECK`.
//!
//! Multi-stage builds: only the final stage, and the earlier stages it is built `FROM`, end
//! up in the image, so rules about the image's content look at those ("shipped" stages);
//! rules about the build itself (base images, `ADD` from URLs, secrets) look at every stage.

use std::collections::HashMap;

use pave_yaml::PathSegment;

use crate::doc::{DocKind, Document};
use crate::dockerfile::{Dockerfile, Instruction};
use crate::rule::{DocRule, References, Rule, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    checkov: &'static [&'static str],
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::Dockerfile,
        tier: Tier::Recommended,
        rationale,
        remediation,
        references: References {
            checkov,
            ..References::default()
        },
    }
}

fn at(index: usize) -> Vec<PathSegment> {
    vec![PathSegment::Index(index)]
}

struct Stage<'a> {
    /// Index of its `FROM`.
    from: usize,
    image: &'a str,
    /// The earlier stage it is built on (`FROM build`).
    parent: Option<usize>,
}

/// A Dockerfile with its stages worked out.
struct View<'a> {
    df: &'a Dockerfile,
    stages: Vec<Stage<'a>>,
    /// `ARG` defaults before the first `FROM`: the only variables `FROM` can use.
    global_args: HashMap<&'a str, Option<String>>,
}

impl<'a> View<'a> {
    fn new(df: &'a Dockerfile) -> Self {
        let mut stages: Vec<Stage<'a>> = Vec::new();
        let mut names: Vec<(String, usize)> = Vec::new();
        let mut global_args = HashMap::new();
        for (i, ins) in df.instructions.iter().enumerate() {
            match ins.cmd.as_str() {
                "arg" if stages.is_empty() => {
                    for word in &ins.value {
                        match word.split_once('=') {
                            Some((k, v)) => {
                                global_args.insert(k, Some(unquote(v).to_owned()));
                            }
                            None => {
                                global_args.insert(word.as_str(), None);
                            }
                        }
                    }
                }
                "from" => {
                    let image = ins.value.first().map_or("", String::as_str);
                    // Stage names are case-insensitive.
                    let parent = names
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(image))
                        .map(|(_, s)| *s);
                    if let Some(name) = &ins.stage_name {
                        names.push((name.clone(), stages.len()));
                    }
                    stages.push(Stage {
                        from: i,
                        image,
                        parent,
                    });
                }
                _ => {}
            }
        }
        View {
            df,
            stages,
            global_args,
        }
    }

    /// The final stage, then the stages it is built on, nearest first.
    fn shipped_chain(&self) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut next = self.stages.len().checked_sub(1);
        while let Some(s) = next {
            if chain.contains(&s) {
                break;
            }
            chain.push(s);
            next = self.stages[s].parent;
        }
        chain
    }

    /// The instructions of stage `s` (its `FROM` included), with their indexes.
    fn stage(&self, s: usize) -> impl DoubleEndedIterator<Item = (usize, &'a Instruction)> {
        let start = self.stages.get(s).map_or(usize::MAX, |st| st.from);
        let end = self.stages.get(s + 1).map_or(usize::MAX, |st| st.from);
        self.df
            .instructions
            .iter()
            .enumerate()
            .filter(move |(i, _)| (start..end).contains(i))
    }

    /// Instructions of the shipped stages, in file order.
    fn shipped(&self) -> Vec<(usize, &'a Instruction)> {
        let mut chain = self.shipped_chain();
        chain.sort_unstable();
        chain.into_iter().flat_map(|s| self.stage(s)).collect()
    }

    fn final_from(&self) -> usize {
        self.stages.last().map_or(0, |s| s.from)
    }

    /// `${VAR}`, `$VAR` and `${VAR:-default}` from the global `ARG` defaults; `None` when a
    /// variable has no value there.
    fn substitute(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            out.push_str(&rest[..dollar]);
            rest = &rest[dollar + 1..];
            let (name, default, after) = if let Some(inner) = rest.strip_prefix('{') {
                let close = inner.find('}')?;
                let body = &inner[..close];
                let (name, default) = match body.find([':', '-']) {
                    Some(p) => {
                        let d = body[p..].trim_start_matches(':');
                        (&body[..p], d.strip_prefix('-'))
                    }
                    None => (body, None),
                };
                (name, default, &inner[close + 1..])
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], None, &rest[end..])
            };
            let value = match self.global_args.get(name) {
                Some(Some(v)) if !v.is_empty() => v.clone(),
                _ => default?.to_owned(),
            };
            out.push_str(&value);
            rest = after;
        }
        out.push_str(rest);
        Some(out)
    }
}

fn unquote(s: &str) -> &str {
    let t = s.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// `registry:5000/name:tag@sha256:…` → (tag, has digest).
fn image_tag(image: &str) -> (Option<&str>, bool) {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let slash = name.rfind('/').map_or(0, |s| s + 1);
    let tag = name[slash..].rsplit_once(':').map(|(_, t)| t);
    (tag, digest)
}

// ---------------------------------------------------------------------------------------------
// Shell commands in RUN.

/// The script a `RUN` executes: the heredoc body when a shell reads it, the `-c` argument of
/// an exec-form shell, else the arguments.
fn script(ins: &Instruction) -> String {
    let joined = ins.value.join(" ");
    if let Some(body) = &ins.heredoc {
        let before = joined.split("<<").next().unwrap_or("").trim();
        let program = before.split_whitespace().next().unwrap_or("");
        let program = program.rsplit('/').next().unwrap_or(program);
        if before.is_empty() || matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh") {
            return body.clone();
        }
        return joined;
    }
    if ins.json
        && ins.value.len() >= 3
        && ins.value[0].ends_with("sh")
        && ins.value[1].starts_with('-')
        && ins.value[1].contains('c')
    {
        return ins.value[2..].join(" ");
    }
    joined
}

/// The simple commands of a shell script as words (quotes removed), split at `;`, `&`, `|`,
/// newlines, parentheses and backquotes. Enough to find programs and their options; not a
/// shell parser.
fn commands(script: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cmd: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    fn end_word(cmd: &mut Vec<String>, word: &mut String, in_word: &mut bool) {
        if *in_word {
            cmd.push(std::mem::take(word));
            *in_word = false;
        }
    }
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                in_word = true;
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    word.push(n);
                    in_word = true;
                }
            },
            '#' if !in_word => {
                while chars.peek().is_some_and(|n| *n != '\n') {
                    chars.next();
                }
            }
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' => {
                end_word(&mut cmd, &mut word, &mut in_word);
                if !cmd.is_empty() {
                    out.push(std::mem::take(&mut cmd));
                }
            }
            c if c.is_whitespace() => end_word(&mut cmd, &mut word, &mut in_word),
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut cmd, &mut word, &mut in_word);
    if !cmd.is_empty() {
        out.push(cmd);
    }
    out
}

/// A command's program (basename) and its arguments, past keywords, variable assignments and
/// `sudo`; and whether `sudo` ran it.
fn program(cmd: &[String]) -> Option<(&str, &[String], bool)> {
    const PREFIXES: &[&str] = &[
        "{", "!", "then", "do", "else", "elif", "if", "while", "until", "time", "exec", "command",
        "env", "nice", "nohup",
    ];
    let mut sudo = false;
    let mut i = 0;
    while let Some(word) = cmd.get(i) {
        let is_assignment = word.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if word == "sudo" {
            sudo = true;
            i += 1;
            // sudo's own options (`-E`, `-u user`).
            while let Some(opt) = cmd.get(i).filter(|w| w.starts_with('-')) {
                i += if matches!(opt.as_str(), "-u" | "-g") {
                    2
                } else {
                    1
                };
            }
        } else if is_assignment || PREFIXES.contains(&word.as_str()) {
            i += 1;
        } else {
            let name = word.rsplit('/').next().unwrap_or(word);
            return Some((name, &cmd[i + 1..], sudo));
        }
    }
    None
}

/// The subcommand of `apt-get`/`apt`/`apk` (`install`, `add`), skipping options.
fn subcommand(args: &[String]) -> Option<&str> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a.starts_with('-') {
            // apt's options that take a value as the next word.
            i += if matches!(a.as_str(), "-o" | "-c" | "-t") {
                2
            } else {
                1
            };
        } else {
            return Some(a);
        }
    }
    None
}

fn is_apt_install(prog: &str, args: &[String]) -> bool {
    matches!(prog, "apt-get" | "apt") && subcommand(args) == Some("install")
}

fn is_apk_add(prog: &str, args: &[String]) -> bool {
    prog == "apk" && subcommand(args) == Some("add")
}

/// `rm … <dir>…` somewhere in the commands.
fn removes(cmds: &[Vec<String>], dir: &str) -> bool {
    cmds.iter().any(|c| {
        program(c).is_some_and(|(p, args, _)| p == "rm" && args.iter().any(|a| a.starts_with(dir)))
    })
}

/// A `--mount=type=cache|tmpfs,target=<dir>…` flag: the directory never reaches the layer.
fn mounts(ins: &Instruction, dir: &str) -> bool {
    ins.flags.iter().any(|f| {
        f.starts_with("--mount=")
            && f.split(',').any(|kv| {
                kv.split_once('=').is_some_and(|(k, v)| {
                    matches!(k, "target" | "dst" | "destination") && v.starts_with(dir)
                })
            })
    })
}

/// Shipped `RUN` instructions and their commands.
fn shipped_runs<'a>(v: &View<'a>) -> Vec<(usize, &'a Instruction, Vec<Vec<String>>)> {
    v.shipped()
        .into_iter()
        .filter(|(_, ins)| ins.cmd == "run")
        .map(|(i, ins)| (i, ins, commands(&script(ins))))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checks.

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}

fn root_user(v: &View<'_>, emit: Emit<'_>) {
    let chain = v.shipped_chain();
    for &s in &chain {
        if let Some((i, ins)) = v.stage(s).rev().find(|(_, ins)| ins.cmd == "user") {
            // `USER $APP_UID` cannot be judged here.
            if let Some(user) = ins.value.first()
                && is_root(user)
            {
                emit(
                    at(i),
                    format!("the last USER is {user}: the container runs as root"),
                );
            }
            return;
        }
    }
    // Distroless and similar `:nonroot` images set a non-root user themselves.
    let base = chain
        .last()
        .and_then(|s| v.stages.get(*s))
        .map_or("", |s| s.image);
    if image_tag(base).0.is_some_and(|t| t.contains("nonroot")) {
        return;
    }
    emit(
        at(v.final_from()),
        "the final stage sets no USER: the container runs as the base image's user, root for most images".into(),
    );
}

fn base_unpinned(v: &View<'_>, emit: Emit<'_>) {
    for stage in &v.stages {
        if stage.parent.is_some() || stage.image.eq_ignore_ascii_case("scratch") {
            continue;
        }
        // `FROM ${BASE}`: judge the global ARG default; without one it cannot be judged.
        let image = if stage.image.contains('$') {
            match v.substitute(stage.image) {
                Some(i) => i,
                None => continue,
            }
        } else {
            stage.image.to_owned()
        };
        if image.eq_ignore_ascii_case("scratch") {
            continue;
        }
        let resolved = if image == stage.image {
            String::new()
        } else {
            format!(" ({image})")
        };
        match image_tag(&image) {
            (_, true) => {}
            (None, false) => emit(
                at(stage.from),
                format!(
                    "FROM {}{resolved} has no tag: it pulls whatever :latest is at build time",
                    stage.image
                ),
            ),
            (Some("latest"), false) => emit(
                at(stage.from),
                format!(
                    "FROM {}{resolved} uses :latest, which changes under you",
                    stage.image
                ),
            ),
            _ => {}
        }
    }
}

/// `ADD` sources (all arguments but the destination).
fn add_sources(ins: &Instruction) -> &[String] {
    match ins.value.len() {
        0 | 1 => &[],
        n => &ins.value[..n - 1],
    }
}

fn is_git(src: &str) -> bool {
    src.starts_with("git@")
        || src.ends_with(".git")
        || src.contains(".git#")
        || src.starts_with("git://")
}

fn is_remote(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || is_git(src)
}

fn add_url(v: &View<'_>, emit: Emit<'_>) {
    for (i, ins) in v.df.instructions.iter().enumerate() {
        if ins.cmd != "add" {
            continue;
        }
        let checksum = ins.flags.iter().any(|f| f.starts_with("--checksum"));
        for src in add_sources(ins).iter().filter(|s| is_remote(s)) {
            if is_git(src) {
                // A git source pinned to a commit is reproducible.
                let commit = src
                    .split_once('#')
                    .map(|(_, r)| r.split(':').next().unwrap_or(r))
                    .is_some_and(|r| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()));
                if !commit {
                    emit(
                        at(i),
                        format!("ADD {src} fetches a git ref that is not pinned to a commit"),
                    );
                }
            } else if !checksum {
                emit(
                    at(i),
                    format!("ADD {src} downloads at build time without verifying a checksum"),
                );
            }
        }
    }
}

fn add_local(v: &View<'_>, emit: Emit<'_>) {
    const ARCHIVES: &[&str] = &[
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.z",
    ];
    for (i, ins) in v.df.instructions.iter().enumerate() {
        if ins.cmd != "add" || ins.heredoc.is_some() {
            continue;
        }
        let sources = add_sources(ins);
        // Remote sources are docker-add-url's; local archives are what ADD is for (it unpacks
        // them); a variable could be either.
        if sources.is_empty()
            || sources.iter().any(|s| {
                let lower = s.to_ascii_lowercase();
                is_remote(s) || s.contains('$') || ARCHIVES.iter().any(|a| lower.ends_with(a))
            })
        {
            continue;
        }
        emit(
            at(i),
            format!(
                "ADD {} copies local files: use COPY, which does nothing implicit",
                sources.join(" ")
            ),
        );
    }
}

/// Words of a variable name: `dbPassword`, `DB_PASSWORD` and `DBPassword` → [db, password].
fn name_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a variable name says it holds a secret. `TOKEN_URL`, `PASSWORD_FILE`,
/// `SECRET_NAME` and the like name where a secret is, not the secret, and `token` must be a
/// whole word (`TOKENIZERS_PARALLELISM` is not one).
fn secret_name(key: &str) -> bool {
    const NOT_VALUES: &[&str] = &[
        "url",
        "uri",
        "file",
        "path",
        "dir",
        "directory",
        "endpoint",
        "host",
        "hostname",
        "port",
        "name",
        "user",
        "username",
        "id",
        "arn",
        "ref",
        "type",
        "length",
        "len",
        "ttl",
        "timeout",
        "expiry",
        "expiration",
        "enabled",
        "enable",
        "disabled",
        "mode",
        "header",
        "location",
        "policy",
        "version",
    ];
    const PARTS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "apikey",
        "privatekey",
        "accesskey",
        "credential",
    ];
    let words = name_words(key);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_VALUES.contains(&last.as_str()) {
        return false;
    }
    let compact: String = words.concat();
    PARTS.iter().any(|p| compact.contains(p))
        || words
            .iter()
            .any(|w| matches!(w.as_str(), "token" | "tokens" | "pass"))
        || (words.len() > 1 && words.iter().any(|w| w == "pwd"))
}

fn secret_env(v: &View<'_>, emit: Emit<'_>) {
    for (i, ins) in v.df.instructions.iter().enumerate() {
        if ins.cmd != "env" {
            continue;
        }
        for pair in ins.value.chunks(2) {
            let (Some(key), Some(value)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let value = value.trim();
            // `ENV TOKEN=$TOKEN` copies a build argument (docker-secret-arg reports that);
            // a flag such as `true` is no secret.
            let reference = value.starts_with('$')
                && !value[1..]
                    .trim_matches(|c| c == '{' || c == '}')
                    .contains(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            let flag = matches!(
                value.to_ascii_lowercase().as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off" | "0" | "1"
            );
            if secret_name(key) && !value.is_empty() && !reference && !flag {
                emit(
                    at(i),
                    format!(
                        "ENV {key} sets a literal value: it is stored in the image, readable by anyone who can pull it"
                    ),
                );
            }
        }
    }
}

fn secret_arg(v: &View<'_>, emit: Emit<'_>) {
    for (i, ins) in v.df.instructions.iter().enumerate() {
        if ins.cmd != "arg" {
            continue;
        }
        for word in &ins.value {
            let key = word.split_once('=').map_or(word.as_str(), |(k, _)| k);
            if secret_name(key) {
                emit(
                    at(i),
                    format!(
                        "ARG {key}: build arguments are recorded in the image history and build logs"
                    ),
                );
            }
        }
    }
}

fn apt_no_recommends(v: &View<'_>, emit: Emit<'_>) {
    let runs = shipped_runs(v);
    for (n, (i, _, cmds)) in runs.iter().enumerate() {
        // `APT::Install-Recommends "false";` written to apt.conf by an earlier RUN.
        let configured = runs[..n].iter().any(|(_, ins, _)| {
            let text = script(ins);
            text.contains("Install-Recommends") && text.contains("/etc/apt/apt.conf")
        });
        if configured {
            continue;
        }
        let missing = cmds.iter().any(|c| {
            program(c).is_some_and(|(p, args, _)| {
                is_apt_install(p, args)
                    && !args.iter().any(|a| {
                        a == "--no-install-recommends"
                            || a.split_once("Install-Recommends=").is_some_and(|(_, v)| {
                                matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no")
                            })
                    })
            })
        });
        if missing {
            emit(
                at(*i),
                "apt-get install without --no-install-recommends pulls in packages nobody asked for".into(),
            );
        }
    }
}

fn apt_cleanup(v: &View<'_>, emit: Emit<'_>) {
    for (i, ins, cmds) in shipped_runs(v) {
        let installs = cmds
            .iter()
            .any(|c| program(c).is_some_and(|(p, args, _)| is_apt_install(p, args)));
        if installs && !removes(&cmds, "/var/lib/apt/lists") && !mounts(ins, "/var/lib/apt") {
            emit(
                at(i),
                "apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN leaves the package lists in the layer".into(),
            );
        }
    }
}

fn apk_no_cache(v: &View<'_>, emit: Emit<'_>) {
    for (i, ins, cmds) in shipped_runs(v) {
        let missing = cmds.iter().any(|c| {
            program(c).is_some_and(|(p, args, _)| {
                is_apk_add(p, args) && !args.iter().any(|a| a == "--no-cache")
            })
        });
        if missing && !removes(&cmds, "/var/cache/apk") && !mounts(ins, "/var/cache/apk") {
            emit(
                at(i),
                "apk add without --no-cache leaves the package index in the layer".into(),
            );
        }
    }
}

fn sudo(v: &View<'_>, emit: Emit<'_>) {
    for (i, _, cmds) in shipped_runs(v) {
        if let Some((p, _, _)) = cmds
            .iter()
            .filter_map(|c| program(c))
            .find(|(_, _, sudo)| *sudo)
        {
            emit(
                at(i),
                format!("RUN uses sudo ({p}): the image's user can become root"),
            );
        }
    }
}

fn healthcheck(v: &View<'_>, emit: Emit<'_>) {
    if !v.shipped().iter().any(|(_, ins)| ins.cmd == "healthcheck") {
        emit(
            at(v.final_from()),
            "the image defines no HEALTHCHECK".into(),
        );
    }
}

fn with_view(doc: &Document, emit: Emit<'_>, check: fn(&View<'_>, Emit<'_>)) {
    if let Some(df) = &doc.dockerfile {
        check(&View::new(df), emit);
    }
}

/// A rule over the parsed Dockerfile.
macro_rules! rule {
    ($meta:expr, $check:expr) => {
        DocRule {
            meta: $meta,
            check: |_, doc, emit| with_view(doc, emit, $check),
        }
    };
}

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    let rules = vec![
        rule!(
            meta(
                "docker-root-user",
                "Container runs as root",
                Severity::High,
                "A process running as root in a container is root on the host's kernel: a \
                 container escape or a writable host mount becomes a host compromise.",
                "Create a user and end the final stage with `USER <uid>` (a numeric UID lets \
                 Kubernetes enforce runAsNonRoot), or build on a non-root base image.",
                &["CKV_DOCKER_3", "CKV_DOCKER_8"],
            ),
            root_user
        ),
        rule!(
            meta(
                "docker-base-unpinned",
                "Base image not pinned",
                Severity::Medium,
                "An image without a tag, or tagged latest, is whatever was pushed last: builds \
                 stop being reproducible and a bad or malicious push flows straight in.",
                "Pin a version tag (`python:3.12-slim`), ideally with its digest \
                 (`python:3.12-slim@sha256:…`) kept current by Renovate or Dependabot.",
                &["CKV_DOCKER_7"],
            ),
            base_unpinned
        ),
        rule!(
            meta(
                "docker-add-url",
                "ADD downloads from a URL",
                Severity::Medium,
                "ADD fetches remote content at build time with no integrity check: a changed or \
                 compromised download lands in the image unnoticed.",
                "Use `ADD --checksum=sha256:…`, or `RUN curl -fsSLo … && sha256sum -c`, or pin a \
                 git source to a commit.",
                &["CKV_DOCKER_4"],
            ),
            add_url
        ),
        rule!(
            meta(
                "docker-add-local",
                "ADD used where COPY would do",
                Severity::Low,
                "ADD unpacks archives and fetches URLs implicitly; for plain files COPY says \
                 what happens and nothing more.",
                "Use COPY for local files; keep ADD for local tar archives you mean to unpack.",
                &["CKV_DOCKER_4"],
            ),
            add_local
        ),
        rule!(
            meta(
                "docker-secret-env",
                "Secret in ENV",
                Severity::High,
                "ENV values are stored in the image configuration: anyone who can pull the image \
                 (or read the Dockerfile) has the secret.",
                "Pass secrets at run time (orchestrator secrets, a secrets manager), and use \
                 `RUN --mount=type=secret` for secrets the build needs.",
                &[],
            ),
            secret_env
        ),
        rule!(
            meta(
                "docker-secret-arg",
                "Secret passed as a build argument",
                Severity::Medium,
                "Build argument values show up in `docker history` for every RUN that follows \
                 them, in build logs and in the build cache.",
                "Use a BuildKit secret: `RUN --mount=type=secret,id=npm_token …` with \
                 `docker build --secret id=npm_token,env=NPM_TOKEN`.",
                &[],
            ),
            secret_arg
        ),
        rule!(
            meta(
                "docker-apt-no-recommends",
                "apt-get install without --no-install-recommends",
                Severity::Low,
                "Recommended packages make the image bigger and add attack surface no one \
                 chose.",
                "Add `--no-install-recommends` to `apt-get install`.",
                &[],
            ),
            apt_no_recommends
        ),
        rule!(
            meta(
                "docker-apt-cleanup",
                "apt package lists left in the image",
                Severity::Low,
                "The lists from `apt-get update` add tens of megabytes to the layer when not \
                 removed in the same RUN (a later RUN cannot shrink an earlier layer).",
                "End the RUN with `&& rm -rf /var/lib/apt/lists/*`, or use a cache mount \
                 (`RUN --mount=type=cache,target=/var/lib/apt …`).",
                &[],
            ),
            apt_cleanup
        ),
        rule!(
            meta(
                "docker-apk-no-cache",
                "apk add without --no-cache",
                Severity::Low,
                "Without --no-cache, apk keeps its package index in the layer.",
                "Use `apk add --no-cache …`.",
                &[],
            ),
            apk_no_cache
        ),
        rule!(
            meta(
                "docker-sudo",
                "sudo in the image",
                Severity::Medium,
                "Build steps already run as root; sudo in a RUN means the image's user is set up \
                 to become root, which undoes running as non-root.",
                "Run the privileged steps before `USER`, and do not install or configure sudo.",
                &["CKV2_DOCKER_1"],
            ),
            sudo
        ),
        rule!(
            meta(
                "docker-healthcheck",
                "No HEALTHCHECK",
                // Kubernetes ignores HEALTHCHECK (it uses probes), so only informational.
                Severity::Info,
                "Docker and Swarm use HEALTHCHECK to tell a running but broken container from a \
                 healthy one; Kubernetes uses probes instead.",
                "Add `HEALTHCHECK CMD …`, or `HEALTHCHECK NONE` to say it is deliberate (e.g. for \
                 images only run on Kubernetes).",
                &["CKV_DOCKER_2"],
            ),
            healthcheck
        ),
    ];
    rules
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Rule>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Exceptions, Finding, Policy, PolicyConfig};

    fn check(text: &str) -> Vec<Finding> {
        let docs = crate::doc::load(
            "Dockerfile",
            text.to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        Policy::with_rules(rules(), PolicyConfig::default(), Exceptions::default())
            .check(&docs, vec![], 0)
            .findings
    }

    /// (rule, line) of the findings of `rule`.
    fn of(text: &str, rule: &str) -> Vec<u32> {
        check(text)
            .into_iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.line.unwrap())
            .collect()
    }

    /// A Dockerfile that no rule objects to.
    const GOOD: &str = "\
# syntax=docker/dockerfile:1
ARG BASE=python:3.12-slim
FROM golang:1.22@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS build
ARG NPM_REGISTRY_URL
RUN apt-get update && apt-get install -y curl
RUN --mount=type=secret,id=token go build -o /out/app ./cmd/app
FROM ${BASE}
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/app /usr/local/bin/app
ADD vendor.tar.gz /opt/
ENV TOKENIZERS_PARALLELISM=false PASSWORD_FILE=/run/secrets/db
HEALTHCHECK CMD [\"/usr/local/bin/app\", \"health\"]
USER 10001:10001
ENTRYPOINT [\"/usr/local/bin/app\"]
";

    #[test]
    fn good_dockerfile_has_no_findings() {
        let f = check(GOOD);
        assert!(
            f.is_empty(),
            "{:?}",
            f.iter().map(|f| (&f.rule, &f.message)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn root_user() {
        assert_eq!(
            of("FROM alpine:3.20\nRUN true\n", "docker-root-user"),
            vec![1]
        );
        assert_eq!(
            of("FROM alpine:3.20\nUSER app\nUSER 0:0\n", "docker-root-user"),
            vec![3]
        );
        assert!(
            of(
                "FROM alpine:3.20\nUSER root\nRUN x\nUSER app\n",
                "docker-root-user"
            )
            .is_empty()
        );
        // USER in the stage the final stage builds on counts; in another stage it does not.
        assert!(
            of(
                "FROM alpine:3.20 AS base\nUSER 1000\nFROM base\nRUN true\n",
                "docker-root-user"
            )
            .is_empty()
        );
        assert_eq!(
            of(
                "FROM alpine:3.20 AS build\nUSER 1000\nFROM alpine:3.20\nRUN true\n",
                "docker-root-user"
            ),
            vec![3]
        );
        assert!(
            of(
                "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY a /a\n",
                "docker-root-user"
            )
            .is_empty()
        );
    }

    #[test]
    fn base_image_pinning() {
        let text = "\
ARG TAG=latest
ARG UNSET
FROM node AS a
FROM node:latest AS b
FROM --platform=$BUILDPLATFORM registry.local:5000/team/node AS c
FROM node:${TAG} AS d
FROM node:${UNSET}
FROM node:20-alpine AS e
FROM node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
FROM a
FROM scratch
";
        let f: Vec<(u32, String)> = check(text)
            .into_iter()
            .filter(|f| f.rule == "docker-base-unpinned")
            .map(|f| (f.line.unwrap(), f.message))
            .collect();
        assert_eq!(
            f.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![3, 4, 5, 6]
        );
        assert_eq!(
            f[3].1,
            "FROM node:${TAG} (node:latest) uses :latest, which changes under you"
        );
        assert_eq!(image_tag("registry.local:5000/team/node"), (None, false));
        assert_eq!(image_tag("node:20@sha256:abc"), (Some("20"), true));
    }

    #[test]
    fn add_rules() {
        let text = "\
FROM alpine:3.20
ADD https://example.com/tool.tgz /opt/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x /x
ADD https://github.com/moby/buildkit.git#v0.14.0 /src
ADD git@github.com:moby/buildkit.git#0123456789abcdef0123456789abcdef01234567 /src
ADD app.py config/ /app/
ADD rootfs.tar.xz /
ADD [\"$SRC\", \"/x\"]
USER app
";
        assert_eq!(of(text, "docker-add-url"), vec![2, 4]);
        assert_eq!(of(text, "docker-add-local"), vec![6]);
    }

    #[test]
    fn secret_names() {
        for yes in [
            "DB_PASSWORD",
            "dbPassword",
            "DBPassword",
            "API_KEY",
            "apiKey",
            "APIKEY",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "private-key",
            "DB_PASS",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "MYSQL_ROOT_PWD",
        ] {
            assert!(secret_name(yes), "{yes}");
        }
        for no in [
            "TOKEN_URL",
            "PASSWORD_FILE",
            "TOKENIZERS_PARALLELISM",
            "SECRET_NAME",
            "GPG_KEY",
            "PWD",
            "PATH",
            "KEYCLOAK_HOST",
            "PASSWORD_MIN_LENGTH",
        ] {
            assert!(!secret_name(no), "{no}");
        }
    }

    #[test]
    fn secrets_in_env_and_arg() {
        let text = "\
ARG NPM_TOKEN
ARG VERSION=1 API_KEY=dev
FROM node:20
ARG BUILD_DATE
ENV DB_PASSWORD=hunter2 LOG_LEVEL=info
ENV API_TOKEN $NPM_TOKEN
ENV SECRET_KEY_BASE=\"\"
ENV ENABLE_TOKEN=true
ENV AUTH_TOKEN abc def
USER node
";
        assert_eq!(of(text, "docker-secret-arg"), vec![1, 2]);
        assert_eq!(of(text, "docker-secret-env"), vec![5, 9]);
        let messages: Vec<String> = check(text)
            .into_iter()
            .filter(|f| f.rule == "docker-secret-env")
            .map(|f| f.message)
            .collect();
        assert!(messages[0].starts_with("ENV DB_PASSWORD sets a literal value"));
    }

    #[test]
    fn apt_and_apk() {
        let text = "\
FROM debian:12 AS build
RUN apt-get update && apt-get install -y build-essential
FROM debian:12
RUN apt-get update && apt-get -y install curl
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
RUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y -o APT::Install-Recommends=false jq
RUN [\"/bin/sh\", \"-c\", \"apt-get update; apt-get install -y vim\"]
RUN <<EOF
set -e
apt-get update
apt install -y --no-install-recommends make
rm -rf /var/lib/apt/lists/*
EOF
RUN apk add curl
RUN apk add --no-cache curl && apk update
RUN echo apt-get install nothing && pip install apt-get
USER 1000
";
        // Line 2 is in a stage that is not shipped.
        assert_eq!(of(text, "docker-apt-no-recommends"), vec![4, 7]);
        assert_eq!(of(text, "docker-apt-cleanup"), vec![4, 7]);
        assert_eq!(of(text, "docker-apk-no-cache"), vec![14]);
        // An earlier apt.conf setting covers later installs.
        let conf = "FROM debian:12\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/00norec\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nUSER 1\n";
        assert!(of(conf, "docker-apt-no-recommends").is_empty());
    }

    #[test]
    fn sudo_and_healthcheck() {
        let text = "\
FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/*
USER app
RUN sudo -E make install
";
        assert_eq!(of(text, "docker-sudo"), vec![4]);
        assert_eq!(of(text, "docker-healthcheck"), vec![1]);
        assert!(of("FROM a:1\nHEALTHCHECK NONE\nUSER 1\n", "docker-healthcheck").is_empty());
    }

    #[test]
    fn commands_split_and_programs() {
        let cmds = commands(
            "A=1 sudo -u root /usr/bin/apt-get -q install -y x && echo 'a && b' | tee f; (cd y && make)",
        );
        let progs: Vec<(&str, bool)> = cmds
            .iter()
            .filter_map(|c| program(c))
            .map(|(p, _, s)| (p, s))
            .collect();
        assert_eq!(
            progs,
            vec![
                ("apt-get", true),
                ("echo", false),
                ("tee", false),
                ("cd", false),
                ("make", false)
            ]
        );
        assert_eq!(cmds[1], vec!["echo", "a && b"]);
    }

    #[test]
    fn positions_point_at_the_instruction() {
        let text = "FROM alpine:3.20\n\n# a comment\nRUN apk add \\\n    curl\nUSER root\n";
        let f = check(text);
        let root = f.iter().find(|f| f.rule == "docker-root-user").unwrap();
        assert_eq!((root.line, root.column), (Some(6), Some(1)));
        let apk = f.iter().find(|f| f.rule == "docker-apk-no-cache").unwrap();
        assert_eq!((apk.line, apk.column), (Some(4), Some(1)));
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for text in [
            "FROM ${\nUSER\nRUN\nADD\nENV A=\nARG\n",
            "ARG X=\"\nFROM $X:${Y:-}\nRUN echo \"héllo → ünïcode\" && sudo\nRUN [\"sh\", \"-c\"]\nADD [\"only\"]\n",
            "FROM a AS a\nFROM a AS b\nFROM b\nUSER $U\nRUN 'unterminated && apt-get install\n",
        ] {
            let _ = check(text);
        }
        // buildkit refuses `ENV A` (no value): an input error with its line, not a panic.
        let err = crate::doc::load(
            "Dockerfile",
            "FROM a\nENV A\n".to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap_err();
        assert_eq!(err.position().map(|p| p.line), Some(2), "{err}");
    }
}
