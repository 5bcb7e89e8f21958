//! Calendar days: what postmortem dates, due dates and closing dates are.
//!
//! Strict on purpose: `2026-02-30` or `2026-1-5` are refused rather than rolled over or
//! guessed, because a wrong due date silently moves an action in or out of a KPI.

use std::fmt;

use pave_stdx::time::{civil_from_days, days_from_civil};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds in a day.
pub(crate) const DAY_MILLIS: i64 = 86_400_000;

/// A calendar day in UTC, counted in days since 1970-01-01; written (and serialised) as
/// `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day `year-month-day`, or `None` when there is no such date (month 13, 30 February).
    pub fn from_ymd(year: i64, month: i64, day: i64) -> Option<Day> {
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// The UTC day an instant (Unix milliseconds) falls on.
    pub fn of_millis(millis: i64) -> Day {
        Day(millis.div_euclid(DAY_MILLIS))
    }

    /// 00:00 UTC of this day, in Unix milliseconds.
    pub fn start_millis(self) -> i64 {
        self.0.saturating_mul(DAY_MILLIS)
    }

    /// Parses `YYYY-MM-DD`, or an RFC 3339 time (`2026-11-02T14:30:00Z`,
    /// `2026-11-02T09:30:00.5-05:00`) which is reduced to the UTC day it falls on.
    pub fn parse(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let date = Day::from_ymd(number(&b[0..4])?, number(&b[5..7])?, number(&b[8..10])?)?;
        match b.get(10) {
            None => Some(date),
            // RFC 3339 §5.6 allows a space instead of `T` "for the sake of readability".
            Some(b'T' | b't' | b' ') => {
                let seconds = time_of_day_utc_seconds(&b[11..])?;
                Some(Day(date.0 + seconds.div_euclid(86_400)))
            }
            Some(_) => None,
        }
    }
}

/// `HH:MM:SS[.fraction](Z|±HH:MM)` as seconds after midnight UTC of the same date (negative,
/// or a day or more, when the offset moves it to another day).
fn time_of_day_utc_seconds(b: &[u8]) -> Option<i64> {
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (number(&b[0..2])?, number(&b[3..5])?, number(&b[6..8])?);
    // 60 is a leap second; it still belongs to the day it is written on.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[8..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (number(&[*h1, *h2])?, number(&[*m1, *m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    Some(hour * 3600 + minute * 60 + second.min(59) - offset)
}

/// An unsigned decimal of ASCII digits only (no sign, no spaces), as RFC 3339 fields are.
fn number(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0i64, |n, d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0);
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Day::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("\"{text}\" is not a date (YYYY-MM-DD)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_reduce_to_utc_days() {
        let nov2 = Day::from_ymd(2026, 11, 2);
        let cases: &[(&str, Option<Day>)] = &[
            ("2026-11-02", nov2),
            ("2026-11-02T14:30:00Z", nov2),
            ("2026-11-02t14:30:00z", nov2),
            ("2026-11-02 14:30:00Z", nov2),
            ("2026-11-02T14:30:00.123456+02:00", nov2),
            // 23:30 at UTC-05:00 is 04:30 UTC the next day.
            ("2026-11-01T23:30:00-05:00", nov2),
            // 00:30 at UTC+01:00 is 23:30 UTC the day before.
            ("2026-11-03T00:30:00+01:00", nov2),
            ("2026-11-02T23:59:60Z", nov2),
            ("2024-02-29", Day::from_ymd(2024, 2, 29)),
            ("2026-02-29", None),
            ("2100-02-29", None),
            ("2026-13-01", None),
            ("2026-00-10", None),
            ("2026-04-31", None),
            ("2026-1-05", None),
            ("2026-11-02T", None),
            ("2026-11-02T14:30Z", None),
            ("2026-11-02T24:00:00Z", None),
            ("2026-11-02T14:30:00", None),
            ("2026-11-02T14:30:00.Z", None),
            ("2026-11-02T14:30:00+2:00", None),
            ("2026-11-02x", None),
            ("+026-11-02", None),
            ("next tuesday", None),
            ("", None),
            ("２０２６-11-02", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Day::parse(text), *expected, "{text}");
        }
    }

    #[test]
    fn days_print_and_serialise_as_iso_dates() {
        let day = Day::from_ymd(2026, 11, 2).expect("a real date");
        assert_eq!(day.to_string(), "2026-11-02");
        assert_eq!(
            serde_json::to_string(&day).expect("serialises"),
            "\"2026-11-02\""
        );
        let back: Day = serde_json::from_str("\"2026-11-02\"").expect("parses");
        assert_eq!(back, day);
        assert!(serde_json::from_str::<Day>("\"2026-11-31\"").is_err());
        assert_eq!(Day::of_millis(day.start_millis() + DAY_MILLIS - 1), day);
        assert_eq!(Day::of_millis(-1), Day(-1));
    }
}
