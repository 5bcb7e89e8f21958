//! Report requests as people and URLs write them (`since=90d`, `group_by=team`,
//! `only=group:default/payments`), resolved against an [`Index`] into a [`Query`]. Shared by
//! `pave dora` and `GET /api/dora` so that both read the same words the same way.

use crate::buckets::{BucketSize, DAY_MS};
use crate::facts::Millis;
use crate::index::Index;
use crate::report::{GroupBy, Query, Scope};
use crate::tiers::TierVersion;

/// The default window: the last 90 days, the span DORA's survey asks about.
pub const DEFAULT_SINCE_DAYS: i64 = 90;

/// A report request by names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    /// Window start: a length back from `to` (`90d`, `12w`) or a time (see [`parse_time`]).
    pub since: Option<String>,
    /// Window end (exclusive); now when absent. A bare date means the end of that day.
    pub until: Option<String>,
    pub group_by: GroupBy,
    /// Environment name.
    pub environment: String,
    /// An entity reference: an entity, a group (with its subtree), a system or a domain.
    pub only: Option<String>,
    pub buckets: BucketSize,
    pub previous: bool,
    pub tiers: TierVersion,
}

impl Default for ReportRequest {
    fn default() -> Self {
        ReportRequest {
            since: None,
            until: None,
            group_by: GroupBy::Team,
            environment: "production".to_owned(),
            only: None,
            buckets: BucketSize::None,
            previous: true,
            tiers: TierVersion::default(),
        }
    }
}

/// A request parameter that cannot be used, by name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct RequestError {
    pub name: &'static str,
    pub message: String,
}

fn bad(name: &'static str, message: impl Into<String>) -> RequestError {
    RequestError {
        name,
        message: message.into(),
    }
}

impl ReportRequest {
    /// Sets one parameter from its text (`group_by`, `env`, `only`, `since`, `until`,
    /// `buckets`, `previous`, `tiers`); unknown names are refused.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), RequestError> {
        match name {
            "since" | "from" => self.since = Some(value.to_owned()),
            "until" | "to" => self.until = Some(value.to_owned()),
            "group_by" | "group-by" => self.group_by = parse_group_by(value)?,
            "env" | "environment" => {
                if value.is_empty() {
                    return Err(bad("env", "must name an environment (production)"));
                }
                self.environment = value.to_owned();
            }
            "only" => self.only = (!value.is_empty()).then(|| value.to_owned()),
            "buckets" => self.buckets = parse_buckets(value)?,
            "previous" => {
                self.previous = match value {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(bad("previous", format!("`{value}` is not true or false"))),
                }
            }
            "tiers" => {
                self.tiers = TierVersion::ALL
                    .into_iter()
                    .find(|t| t.as_str() == value)
                    .ok_or_else(|| bad("tiers", format!("`{value}` is not 2023 or 2024")))?
            }
            _ => {
                return Err(RequestError {
                    name: "parameter",
                    message: format!(
                        "unknown parameter `{name}` (since, until, group_by, env, only, buckets, \
                         previous, tiers)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The window `[from, to)` in Unix milliseconds, at `now`.
    pub fn window(&self, now: Millis) -> Result<(Millis, Millis), RequestError> {
        let to = match &self.until {
            None => now,
            Some(text) => parse_time(text, true).map_err(|m| bad("until", m))?,
        };
        let from = match &self.since {
            None => to - DEFAULT_SINCE_DAYS * DAY_MS,
            Some(text) => match parse_length(text) {
                Some(length) => to.saturating_sub(length),
                None => parse_time(text, false).map_err(|m| {
                    bad(
                        "since",
                        format!("{m}, or a length back from the end (90d, 12w, 36h)"),
                    )
                })?,
            },
        };
        if from >= to {
            return Err(bad(
                "since",
                "the window is empty: `since` must be before `until`",
            ));
        }
        Ok((from, to))
    }

    /// The [`Query`] this asks of `index` at `now`.
    pub fn resolve(&self, index: &Index, now: Millis) -> Result<Query, RequestError> {
        let (from, to) = self.window(now)?;
        let environment = index.environment(&self.environment).ok_or_else(|| {
            let known = index.environments();
            bad(
                "env",
                if known.is_empty() {
                    format!(
                        "no deployments to `{}` yet (no environment has any)",
                        self.environment
                    )
                } else {
                    format!(
                        "no deployments to `{}` (known: {})",
                        self.environment,
                        known.join(", ")
                    )
                },
            )
        })?;
        let only = match &self.only {
            None => None,
            Some(reference) => Some(scope_of(index, reference)?),
        };
        Ok(Query {
            from,
            to,
            environment,
            group_by: self.group_by,
            only,
            buckets: self.buckets,
            compare_previous: self.previous,
            tiers: self.tiers,
        })
    }
}

fn scope_of(index: &Index, reference: &str) -> Result<Scope, RequestError> {
    let lower = reference.to_ascii_lowercase();
    let full = if lower.contains(':') {
        lower
    } else {
        format!("component:default/{lower}")
    };
    let full = match full.split_once(':') {
        Some((kind, rest)) if !rest.contains('/') => format!("{kind}:default/{rest}"),
        _ => full,
    };
    let org = index.org();
    if let Some(ix) = org.group_ix(&full) {
        return Ok(Scope::Group(ix));
    }
    if let Some(ix) = org.system_ix(&full) {
        return Ok(Scope::System(ix));
    }
    if let Some(ix) = org.domain_ix(&full) {
        return Ok(Scope::Domain(ix));
    }
    if let Some(ix) = org.entity_ix(&full) {
        return Ok(Scope::Entity(ix));
    }
    Err(bad(
        "only",
        format!("`{reference}` is no entity, group, system or domain of the catalog"),
    ))
}

/// `entity`, `team`, `system`, `domain` or `org`.
pub fn parse_group_by(text: &str) -> Result<GroupBy, RequestError> {
    Ok(match text {
        "entity" | "service" | "component" => GroupBy::Entity,
        "team" | "group" => GroupBy::Team,
        "system" => GroupBy::System,
        "domain" => GroupBy::Domain,
        "org" | "organisation" | "organization" => GroupBy::Org,
        _ => {
            return Err(bad(
                "group_by",
                format!("`{text}` is not entity, team, system, domain or org"),
            ));
        }
    })
}

/// `none`, `week` or `month`.
pub fn parse_buckets(text: &str) -> Result<BucketSize, RequestError> {
    Ok(match text {
        "none" | "" => BucketSize::None,
        "week" | "weekly" => BucketSize::Week,
        "month" | "monthly" => BucketSize::Month,
        _ => {
            return Err(bad(
                "buckets",
                format!("`{text}` is not week, month or none"),
            ));
        }
    })
}

/// A length back in time: `90d`, `12w`, `36h` (one unit).
fn parse_length(text: &str) -> Option<Millis> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let size = match unit {
        'w' => 7 * DAY_MS,
        'd' => DAY_MS,
        'h' => 3_600_000,
        _ => return None,
    };
    n.checked_mul(size).filter(|&ms| ms > 0)
}

/// `YYYY-MM-DD` (midnight UTC, or the end of that day with `end_of_day`) or an RFC 3339 time
/// (`2026-12-01T09:00:00Z`, any offset), as Unix milliseconds.
pub fn parse_time(text: &str, end_of_day: bool) -> Result<Millis, String> {
    let wrong = || format!("`{text}` is not a date (2026-12-01) or an RFC 3339 time");
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(wrong());
    }
    let (y, m, d) = match (number(0..4), number(5..7), number(8..10)) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        _ => return Err(wrong()),
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(format!("`{text}`: there is no day {y:04}-{m:02}-{d:02}"));
    }
    let day = days_from_civil(y, m, d) * DAY_MS;
    if bytes.len() == 10 {
        return Ok(if end_of_day { day + DAY_MS } else { day });
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes.len() < 20 {
        return Err(wrong());
    }
    let (hh, mm, ss) = match (number(11..13), number(14..16), number(17..19)) {
        (Some(h), Some(m), Some(s)) if bytes[13] == b':' && bytes[16] == b':' => (h, m, s),
        _ => return Err(wrong()),
    };
    if hh > 23 || mm > 59 || ss > 60 {
        return Err(wrong());
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(wrong());
        }
        let first3 = &fraction[..digits.min(3)];
        millis = first3.parse::<i64>().map_err(|_| wrong())? * 10_i64.pow(3 - first3.len() as u32);
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(wrong()),
            };
            let (oh, om) = match (rest.get(1..3), rest.get(3..4), rest.get(4..6)) {
                (Some(h), Some(":"), Some(m)) if rest.len() == 6 => (h, m),
                _ => return Err(wrong()),
            };
            let (oh, om): (i64, i64) = match (oh.parse(), om.parse()) {
                (Ok(h), Ok(m)) if h < 24 && m < 60 => (h, m),
                _ => return Err(wrong()),
            };
            sign * (oh * 3_600_000 + om * 60_000)
        }
    };
    Ok(day + hh * 3_600_000 + mm * 60_000 + ss.min(59) * 1000 + millis - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_lengths() {
        assert_eq!(parse_time("1970-01-02", false), Ok(DAY_MS));
        assert_eq!(parse_time("1970-01-02", true), Ok(2 * DAY_MS));
        assert_eq!(
            parse_time("2026-12-01T09:00:00Z", false),
            Ok(1_796_115_600_000)
        );
        assert_eq!(
            parse_time("2026-12-01T10:00:00.5+01:00", false),
            Ok(1_796_115_600_500)
        );
        assert!(
            parse_time("2026-02-31", false)
                .unwrap_err()
                .contains("no day")
        );
        assert!(parse_time("2026-12-01T09:00", false).is_err());
        assert!(parse_time("yesterday", false).is_err());
        assert_eq!(parse_length("90d"), Some(90 * DAY_MS));
        assert_eq!(parse_length("2w"), Some(14 * DAY_MS));
        assert_eq!(parse_length("0d"), None);
        assert_eq!(parse_length("d"), None);
        assert_eq!(parse_length("99999999999999999999d"), None);
    }

    #[test]
    fn windows_default_to_ninety_days_and_refuse_empty_ones() {
        let request = ReportRequest::default();
        assert_eq!(
            request.window(100 * DAY_MS),
            Ok((10 * DAY_MS, 100 * DAY_MS))
        );
        let mut request = ReportRequest::default();
        request.set("since", "1970-01-05").unwrap();
        request.set("until", "1970-01-05").unwrap();
        assert_eq!(request.window(0), Ok((4 * DAY_MS, 5 * DAY_MS)));
        request.set("until", "1970-01-03").unwrap();
        assert_eq!(request.window(0).unwrap_err().name, "since");
    }

    #[test]
    fn parameters_are_named_in_errors() {
        let mut request = ReportRequest::default();
        assert_eq!(
            request.set("group_by", "tribe").unwrap_err().name,
            "group_by"
        );
        assert_eq!(request.set("buckets", "daily").unwrap_err().name, "buckets");
        assert_eq!(request.set("tiers", "2022").unwrap_err().name, "tiers");
        assert!(
            request
                .set("colour", "red")
                .unwrap_err()
                .message
                .contains("colour")
        );
        request.set("previous", "false").unwrap();
        assert!(!request.previous);
    }
}
