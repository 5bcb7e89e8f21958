//! `pave-exceptions.yaml`: waivers with an owner, a reason and a mandatory expiry.

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::config::ConfigError;
use crate::doc::{Document, ObjectRef};

/// The annotation by which an object declares the rules it is exempt from. Every rule it
/// names must be covered by an entry of the exceptions file.
pub const EXEMPT_ANNOTATION: &str = "pave.dev/exempt";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    exceptions: Vec<RawException>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawException {
    id: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default, rename = "match")]
    selector: Selector,
    owner: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Selector {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    #[serde(default)]
    files: Vec<String>,
}

/// One waiver.
#[derive(Debug, Clone)]
pub struct Exception {
    pub id: String,
    pub rules: Vec<String>,
    pub owner: String,
    pub reason: String,
    /// As written (RFC 3339).
    pub expires: String,
    /// Unix seconds.
    pub expires_at: i64,
    kind: Option<String>,
    namespace: Option<GlobMatcher>,
    name: Option<GlobMatcher>,
    files: Vec<GlobMatcher>,
    /// Where the entry is, for findings about it.
    pub file: String,
    pub position: Option<pave_yaml::Position>,
}

impl Exception {
    /// Whether it covers `rule` for `object` found in `file`.
    pub fn matches(&self, rule: &str, object: Option<&ObjectRef>, file: &str) -> bool {
        if !self.rules.iter().any(|r| r == rule || r == "*") {
            return false;
        }
        if !self.files.is_empty() && !self.files.iter().any(|g| g.is_match(file)) {
            return false;
        }
        let needs_object = self.kind.is_some() || self.namespace.is_some() || self.name.is_some();
        match object {
            None => !needs_object,
            Some(o) => {
                self.kind
                    .as_ref()
                    .is_none_or(|k| k.eq_ignore_ascii_case(&o.kind))
                    && self
                        .namespace
                        .as_ref()
                        .is_none_or(|g| g.is_match(o.namespace.as_deref().unwrap_or("default")))
                    && self.name.as_ref().is_none_or(|g| g.is_match(&o.name))
            }
        }
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }
}

/// All waivers.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    pub entries: Vec<Exception>,
}

impl Exceptions {
    /// Parses `pave-exceptions.yaml` text. Entries without an owner, a reason or an RFC 3339
    /// `expires` are refused: every waiver must say who owns it and until when.
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let error = |position, message: String| ConfigError {
            file: file.to_owned(),
            position,
            message,
        };
        let value = pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
            .map_err(|e| error(Some(e.position()), e.to_string()))?
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(serde_json::Value::Null);
        if value.is_null() {
            return Ok(Exceptions::default());
        }
        let raw: File = serde_json::from_value(value).map_err(|e| error(None, e.to_string()))?;
        let mut entries = Vec::new();
        for (i, e) in raw.exceptions.into_iter().enumerate() {
            let at = |field: &str| {
                pave_yaml::locate(text, 0, &["exceptions".into(), i.into(), field.into()])
            };
            let id =
                e.id.clone()
                    .unwrap_or_else(|| format!("exception-{}", i + 1));
            let required = |value: Option<String>, field: &str| {
                value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    error(
                        at(field),
                        format!("exception {id} has no `{field}`: every exception needs an owner, a reason and an `expires` date"),
                    )
                })
            };
            let owner = required(e.owner, "owner")?;
            let reason = required(e.reason, "reason")?;
            let expires = required(e.expires, "expires")?;
            let expires_at = parse_rfc3339(&expires).ok_or_else(|| {
                error(
                    at("expires"),
                    format!("exception {id}: `expires: {expires}` is not an RFC 3339 time such as 2027-01-31T00:00:00Z"),
                )
            })?;
            if e.rules.is_empty() {
                return Err(error(
                    at("rules"),
                    format!("exception {id} names no `rules`"),
                ));
            }
            let glob = |pattern: &str, field: &str| {
                Glob::new(pattern)
                    .map(|g| g.compile_matcher())
                    .map_err(|err| {
                        error(
                            at("match"),
                            format!("exception {id}: match.{field} `{pattern}`: {err}"),
                        )
                    })
            };
            let namespace = e
                .selector
                .namespace
                .as_deref()
                .map(|p| glob(p, "namespace"))
                .transpose()?;
            let name = e
                .selector
                .name
                .as_deref()
                .map(|p| glob(p, "name"))
                .transpose()?;
            let files = e
                .selector
                .files
                .iter()
                .map(|p| glob(p, "files"))
                .collect::<Result<_, _>>()?;
            entries.push(Exception {
                id,
                rules: e.rules,
                owner,
                reason,
                expires,
                expires_at,
                kind: e.selector.kind,
                namespace,
                name,
                files,
                file: file.to_owned(),
                position: pave_yaml::locate(text, 0, &["exceptions".into(), i.into()]),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            if !seen.insert(&e.id) {
                return Err(error(
                    e.position,
                    format!("exception id {} is used twice", e.id),
                ));
            }
        }
        Ok(Exceptions { entries })
    }

    /// The first entry covering `rule` for `object` in `file` (active or expired).
    pub fn find(&self, rule: &str, object: Option<&ObjectRef>, file: &str) -> Option<&Exception> {
        self.entries.iter().find(|e| e.matches(rule, object, file))
    }
}

/// The rules an object's `pave.dev/exempt` annotation names.
pub fn annotated_exemptions(doc: &Document) -> Vec<String> {
    doc.value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(EXEMPT_ANNOTATION))
        .and_then(serde_json::Value::as_str)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses `2027-01-31T00:00:00Z`, `2027-01-31T00:00:00.5+02:00` or a bare date `2027-01-31`
/// (midnight UTC) into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |t: &str| -> Option<i64> { t.parse().ok() };
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = 0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let at = time.rfind(['+', '-'])?;
            let (c, o) = time.split_at(at);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            (c, sign * (num(oh)? * 3600 + num(om)? * 60))
        };
        let clock = clock.split('.').next()?;
        let mut c = clock.split(':');
        let (h, m, sec) = (num(c.next()?)?, num(c.next()?)?, num(c.next()?)?);
        if c.next().is_some() || h > 23 || m > 59 || sec > 60 {
            return None;
        }
        seconds = h * 3600 + m * 60 + sec - offset;
    }
    Some(pave_stdx::time::days_from_civil(year, month, day) * 86_400 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-27T00:00:00Z"), Some(1_795_737_600));
        assert_eq!(parse_rfc3339("2026-11-27"), Some(1_795_737_600));
        assert_eq!(
            parse_rfc3339("2026-11-27T02:00:00.25+02:00"),
            Some(1_795_737_600)
        );
        assert_eq!(parse_rfc3339("next tuesday"), None);
        assert_eq!(parse_rfc3339("2026-13-01"), None);
    }

    #[test]
    fn entries_need_owner_reason_expiry() {
        let ok = Exceptions::parse(
            "x.yaml",
            "exceptions:\n- id: e1\n  rules: [pss-privileged]\n  match: {kind: DaemonSet, namespace: kube-*, name: cilium*}\n  owner: net\n  reason: CNI\n  expires: 2027-01-01T00:00:00Z\n",
        )
        .unwrap();
        let e = &ok.entries[0];
        let obj = |ns: &str, name: &str| ObjectRef {
            kind: "DaemonSet".into(),
            namespace: Some(ns.into()),
            name: name.into(),
        };
        assert!(e.matches(
            "pss-privileged",
            Some(&obj("kube-system", "cilium-agent")),
            "a.yaml"
        ));
        assert!(!e.matches(
            "pss-privileged",
            Some(&obj("default", "cilium-agent")),
            "a.yaml"
        ));
        assert!(!e.matches(
            "pss-host-ports",
            Some(&obj("kube-system", "cilium-agent")),
            "a.yaml"
        ));
        assert!(!e.expired(1_795_737_600));

        let err = Exceptions::parse(
            "x.yaml",
            "exceptions:\n- id: e1\n  rules: [a]\n  owner: me\n  reason: r\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.yaml:2:3: exception e1 has no `expires`: every exception needs an owner, a reason and an `expires` date"
        );
        let err = Exceptions::parse(
            "x.yaml",
            "exceptions:\n- rules: [a]\n  owner: me\n  reason: r\n  expires: soon\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.yaml:5:3: exception exception-1: `expires: soon`"),
            "{err}"
        );
    }
}
