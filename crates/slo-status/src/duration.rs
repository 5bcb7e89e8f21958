//! Prometheus durations (`5m`, `1d`, `4w`, `1d1h43m`): parsing, and formatting the way
//! Prometheus' `model.Duration.String()` does, which is how Sloth names its series
//! (`slo:sli_error:ratio_rate4w` for 28 days).

use std::time::Duration;

/// Formats like Prometheus: years and weeks only when exact (`30d`, `4w`, `1d1h43m`), as
/// [`pave_slo::Duration`] does (one implementation for rule names and status alike).
pub fn format_prometheus(d: Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    pave_slo::Duration::from_millis(ms).to_string()
}

/// Parses `1d`, `90m`, `1h30m`, `4w`, `500ms` with [`pave_slo::Duration::parse`]'s rules
/// (units from largest to smallest, each once).
///
/// # Errors
/// A message naming the text when it is not a Prometheus duration.
pub fn parse_prometheus(text: &str) -> Result<Duration, String> {
    pave_slo::Duration::parse(text.trim())
        .map(|d| Duration::from_millis(d.as_millis()))
        .map_err(|e| e.to_string())
}

/// A short human form: `29d 23h`, `5h 12m`, `42m`, `30s`.
pub fn format_human(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// serde for `Duration` as a Prometheus duration string.
pub(crate) mod serde_prometheus {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_prometheus(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_prometheus(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn formats_like_prometheus() {
        let day = 86_400;
        for (secs, text) in [
            (300, "5m"),
            (3600, "1h"),
            (day, "1d"),
            (3 * day, "3d"),
            (30 * day, "30d"),
            (28 * day, "4w"),
            (7 * day, "1w"),
            (90 * day, "90d"),
            (365 * day, "1y"),
            (day + 3600 + 43 * 60, "1d1h43m"),
        ] {
            assert_eq!(format_prometheus(Duration::from_secs(secs)), text);
            assert_eq!(parse_prometheus(text).unwrap(), Duration::from_secs(secs));
        }
        assert_eq!(format_prometheus(Duration::ZERO), "0s");
        assert_eq!(
            parse_prometheus("500ms").unwrap(),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "1.5h",
            "-1h",
            "99999999999999999999d",
            "1m1h",
        ] {
            assert!(parse_prometheus(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_form() {
        assert_eq!(format_human(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(
            format_human(Duration::from_secs(86_400 + 7200 + 60)),
            "1d 2h"
        );
        assert_eq!(format_human(Duration::from_secs(3 * 3600 + 120)), "3h 2m");
        assert_eq!(format_human(Duration::from_secs(42 * 60)), "42m");
        assert_eq!(format_human(Duration::from_secs(12)), "12s");
    }
}
