//! Timestamps as senders write them, read to Unix milliseconds in UTC.
//!
//! - RFC 3339 / ISO 8601 with `Z` or an offset, any fraction (GitHub, CDEvents, PagerDuty,
//!   Alertmanager, Flux, Argo CD; GitLab's newer payloads).
//! - GitLab's `2021-04-28 21:50:00 +0200` and `2016-08-12 15:23:28 UTC`.
//! - Integers since the epoch, in seconds (GitHub's `repository.pushed_at` in pushes),
//!   milliseconds (Opsgenie `createdAt`) or nanoseconds (Opsgenie `updatedAt`): the unit is
//!   told by magnitude, which is unambiguous for any date between 1973 and 5138.
//!
//! Offsets are applied, never dropped: `21:50:00 +0200` is 19:50 UTC (Four Keys' GitLab
//! parser stripped the offset and shifted such times by two hours).

use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::model::Millis;

/// The start of every error message for a value that is not a timestamp, so the reader can
/// tell a bad timestamp from other field errors.
pub(crate) const NOT_A_TIMESTAMP: &str = "not a timestamp: ";

/// What the readers accept, for error messages.
pub(crate) const EXPECTED: &str = "expected RFC 3339 like 2024-05-01T12:00:00Z, 2024-05-01 14:00:00 +0200, or epoch seconds/ms/ns";

/// Reads a textual timestamp in any of the accepted forms.
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    // GitLab: `2021-04-28 21:50:00 +0200`, and the same with a fraction.
    for format in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f %z"] {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(time.timestamp_millis());
        }
    }
    // GitLab: `2016-08-12 15:23:28 UTC`.
    let utc = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix(" Z"))?;
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(utc, format) {
            return Some(time.and_utc().timestamp_millis());
        }
    }
    None
}

/// An integer since the epoch, its unit told by magnitude (see the module documentation).
pub fn epoch_to_millis(value: i64) -> Millis {
    let magnitude = value.unsigned_abs();
    if magnitude < 100_000_000_000 {
        value.saturating_mul(1000)
    } else if magnitude < 100_000_000_000_000 {
        value
    } else if magnitude < 100_000_000_000_000_000 {
        value / 1000
    } else {
        value / 1_000_000
    }
}

/// Go's zero `time.Time`, which Alertmanager sends as `endsAt` of a firing alert.
pub(crate) fn is_go_zero_time(millis: Millis) -> bool {
    millis == -62_135_596_800_000
}

/// A required timestamp field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time(pub(crate) Millis);

/// An optional timestamp field: absent, `null`, empty and Argo CD's `<no value>` (what a Go
/// template prints for a missing field) are all "not given".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MaybeTime(pub(crate) Option<Millis>);

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Option<Millis>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.trim().is_empty() || text == "<no value>" {
            return Ok(None);
        }
        parse_timestamp(text)
            .map(Some)
            .ok_or_else(|| E::custom(format_args!("{NOT_A_TIMESTAMP}{text:?} ({EXPECTED})")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(epoch_to_millis(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        let value = i64::try_from(value)
            .map_err(|_| E::custom(format_args!("{NOT_A_TIMESTAMP}{value} (out of range)")))?;
        Ok(Some(epoch_to_millis(value)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // Epoch seconds with a fraction; nothing we read sends them, but they are unambiguous.
        if value.is_finite() && value.abs() < 1e11 {
            Ok(Some((value * 1000.0).round() as Millis))
        } else {
            Err(E::custom(format_args!(
                "{NOT_A_TIMESTAMP}{value} ({EXPECTED})"
            )))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(TimeVisitor)
    }
}

impl<'de> Deserialize<'de> for MaybeTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimeVisitor).map(MaybeTime)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(TimeVisitor)? {
            Some(millis) => Ok(Time(millis)),
            None => Err(de::Error::custom(format_args!(
                "{NOT_A_TIMESTAMP}empty ({EXPECTED})"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2021-04-28T19:50:00Z.
    const APRIL_28: Millis = 1_619_639_400_000;

    #[test]
    fn offsets_are_converted_to_utc() {
        for text in [
            "2021-04-28T19:50:00Z",
            "2021-04-28T21:50:00+02:00",
            "2021-04-28T14:50:00-05:00",
            "2021-04-28 21:50:00 +0200",
            "2021-04-28 19:50:00 UTC",
            "2021-04-28 19:50:00.000 UTC",
            "2021-04-28T19:50:00.000000000Z",
            " 2021-04-28T19:50:00Z ",
        ] {
            assert_eq!(parse_timestamp(text), Some(APRIL_28), "{text}");
        }
        assert_eq!(
            parse_timestamp("2020-02-06T00:17:58.432911368Z"),
            Some(1_580_948_278_432)
        );
    }

    #[test]
    fn nonsense_is_not_a_timestamp() {
        for text in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-04-28",
            "2021-04-28 19:50:00",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn epoch_units_are_told_by_magnitude() {
        // Seconds (GitHub pushed_at), milliseconds and nanoseconds (Opsgenie).
        assert_eq!(epoch_to_millis(1_557_933_657), 1_557_933_657_000);
        assert_eq!(epoch_to_millis(1_502_709_956_288), 1_502_709_956_288);
        assert_eq!(epoch_to_millis(1_502_709_956_288_123), 1_502_709_956_288);
        assert_eq!(
            epoch_to_millis(1_502_709_956_288_000_110),
            1_502_709_956_288
        );
        assert_eq!(epoch_to_millis(0), 0);
    }

    #[test]
    fn go_zero_time_is_recognised() {
        assert!(is_go_zero_time(
            parse_timestamp("0001-01-01T00:00:00Z").unwrap()
        ));
    }

    #[test]
    fn fields_read_through_serde() {
        let time: Time = serde_json::from_str("\"2021-04-28 21:50:00 +0200\"").unwrap();
        assert_eq!(time, Time(APRIL_28));
        let time: Time = serde_json::from_str("1619639400").unwrap();
        assert_eq!(time, Time(APRIL_28));
        let maybe: MaybeTime = serde_json::from_str("\"<no value>\"").unwrap();
        assert_eq!(maybe, MaybeTime(None));
        let maybe: MaybeTime = serde_json::from_str("null").unwrap();
        assert_eq!(maybe, MaybeTime(None));
        let err = serde_json::from_str::<Time>("\"soon\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(NOT_A_TIMESTAMP) && err.contains("\"soon\""),
            "{err}"
        );
        assert!(serde_json::from_str::<Time>("null").is_err());
    }
}
