//! Prometheus durations (`model.Duration`): `5m`, `1h30m`, `4w`, parsed and printed the way
//! Prometheus and Sloth do, at millisecond precision.

use std::fmt;

/// A non-negative duration in milliseconds, printed like Prometheus' `model.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    millis: u64,
}

const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;
const YEAR: u64 = 365 * DAY;

/// The units of the duration syntax, largest first (the order they must appear in).
const UNITS: [(&str, u64); 7] = [
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", 1),
];

impl Duration {
    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Duration { millis }
    }

    /// A duration of `days` days.
    pub const fn from_days(days: u64) -> Self {
        Duration {
            millis: days.saturating_mul(DAY),
        }
    }

    /// The length in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    /// The length in seconds (for PromQL arithmetic and status code).
    pub fn as_secs_f64(self) -> f64 {
        // Whole seconds and the rest, so large values keep their precision.
        (self.millis / SECOND) as f64 + (self.millis % SECOND) as f64 / 1000.0
    }

    /// Hours as Go's `time.Duration.Hours()` computes them (whole hours plus the rest),
    /// so burn-rate factors come out bit-for-bit like Sloth's.
    pub fn hours(self) -> f64 {
        let whole = self.millis / HOUR;
        let nanos_rest = (self.millis % HOUR) * 1_000_000;
        whole as f64 + nanos_rest as f64 / (60.0 * 60.0 * 1e9)
    }

    /// Parses `1d`, `90m`, `1h30m`, `4w`, `0`: one or more `<integer><unit>` with units
    /// `y w d h m s ms`, each at most once and from largest to smallest.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let invalid = || DurationError {
            text: text.to_owned(),
        };
        if text == "0" {
            return Ok(Duration::default());
        }
        if text.is_empty() {
            return Err(invalid());
        }
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut next_unit = 0; // index into UNITS: units must not repeat or go backwards
        let mut total: u64 = 0;
        while pos < bytes.len() {
            let start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == start {
                return Err(invalid());
            }
            let number: u64 = text[start..pos].parse().map_err(|_| invalid())?;
            let unit_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_alphabetic() {
                pos += 1;
            }
            let unit = &text[unit_start..pos];
            let index = UNITS[next_unit..]
                .iter()
                .position(|(name, _)| *name == unit)
                .ok_or_else(invalid)?
                + next_unit;
            next_unit = index + 1;
            let part = number.checked_mul(UNITS[index].1).ok_or_else(invalid)?;
            total = total.checked_add(part).ok_or_else(invalid)?;
        }
        Ok(Duration { millis: total })
    }
}

impl fmt::Display for Duration {
    /// Prometheus' format: `0s`; years and weeks only when they divide what is left
    /// (`4w`, but `30d` and not `4w2d`); then `d h m s ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.millis;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            let exact_only = unit == "y" || unit == "w";
            if exact_only && !ms.is_multiple_of(size) {
                continue;
            }
            let count = ms / size;
            if count > 0 {
                write!(f, "{count}{unit}")?;
                ms -= count * size;
            }
        }
        Ok(())
    }
}

/// A text that is not a Prometheus duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{text}` (use a Prometheus duration such as 30d, 4w, 6h or 1h30m)")]
pub struct DurationError {
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Duration {
        Duration::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn formats_like_prometheus() {
        for (input, want) in [
            ("5m", "5m"),
            ("30m", "30m"),
            ("1h", "1h"),
            ("24h", "1d"),
            ("72h", "3d"),
            ("30d", "30d"),
            ("28d", "4w"),
            ("7d", "1w"),
            ("14d", "2w"),
            ("90d", "90d"),
            ("365d", "1y"),
            ("36h", "1d12h"),
            ("1500ms", "1s500ms"),
            ("0", "0s"),
            ("1d1h43m", "1d1h43m"),
        ] {
            assert_eq!(d(input).to_string(), want, "{input}");
        }
        assert_eq!(
            Duration::from_millis(DAY + HOUR + 43 * MINUTE).to_string(),
            "1d1h43m"
        );
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for bad in [
            "", "5", "m", "5x", "1m1h", "1h1h", "-5m", "1.5h", " 5m", "5m ",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Duration::parse("99999999999999999999y").is_err());
    }

    #[test]
    fn hours_match_go() {
        assert_eq!(d("30d").hours(), 720.0);
        assert_eq!(d("30m").hours(), 0.5);
        assert_eq!(d("2m").hours(), 2.0 / 60.0);
    }

    proptest! {
        #[test]
        fn printing_then_parsing_is_identity(ms in 0u64..(1u64 << 50)) {
            let dur = Duration::from_millis(ms);
            prop_assert_eq!(Duration::parse(&dur.to_string()).ok(), Some(dur));
        }
    }
}
