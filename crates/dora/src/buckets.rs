//! Calendar arithmetic in UTC: days, ISO weeks (Monday 00:00 UTC), calendar months, and the
//! previous period of a window.
//!
//! Reports split a window `[from, to)` into buckets for charts. A bucket is the calendar
//! week or month (its `start` and `end`), clipped to the window (`from`, `to`): the first
//! and last buckets of a window that does not start on a Monday or the first of a month are
//! partial, and their figures cover only the part inside the window (rates per day use the
//! clipped length).
//!
//! The previous period of `[from, to)` is `[from - (to - from), from)`: the same length,
//! immediately before, whatever the calendar says.

use serde::{Deserialize, Serialize};

use crate::facts::Millis;

/// Milliseconds in a day (UTC has no daylight saving; leap seconds are not counted by Unix
/// time).
pub const DAY_MS: Millis = 86_400_000;
/// Milliseconds in a week.
pub const WEEK_MS: Millis = 7 * DAY_MS;

/// How a report's window is split for series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketSize {
    /// No series, only the window's figures.
    #[default]
    None,
    /// ISO weeks, Monday 00:00 UTC to the next Monday.
    Week,
    /// Calendar months in UTC.
    Month,
}

/// One bucket of a series: calendar bounds and the part of the window inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// The calendar start (a Monday or the first of a month, 00:00 UTC).
    pub start: Millis,
    /// The calendar end (exclusive).
    pub end: Millis,
    /// `max(start, window.from)`: where the figures begin.
    pub from: Millis,
    /// `min(end, window.to)`: where the figures end (exclusive).
    pub to: Millis,
}

/// 00:00 UTC of the day `t` falls on.
pub fn day_start(t: Millis) -> Millis {
    t.div_euclid(DAY_MS) * DAY_MS
}

/// Monday 00:00 UTC of the ISO week `t` falls in.
///
/// Day 0 of Unix time (1970-01-01) was a Thursday, three days after a Monday.
pub fn week_start(t: Millis) -> Millis {
    let days = t.div_euclid(DAY_MS);
    let since_monday = (days + 3).rem_euclid(7);
    (days - since_monday) * DAY_MS
}

/// The first of the month `t` falls in, 00:00 UTC.
pub fn month_start(t: Millis) -> Millis {
    let (year, month, _) = pave_stdx::time::civil_from_days(t.div_euclid(DAY_MS));
    pave_stdx::time::days_from_civil(year, month, 1) * DAY_MS
}

/// The first of the month after the one `t` falls in, 00:00 UTC.
pub fn next_month_start(t: Millis) -> Millis {
    let (year, month, _) = pave_stdx::time::civil_from_days(t.div_euclid(DAY_MS));
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    pave_stdx::time::days_from_civil(year, month, 1) * DAY_MS
}

/// The window of the same length immediately before `[from, to)`.
pub fn previous_window(from: Millis, to: Millis) -> (Millis, Millis) {
    (from - (to - from), from)
}

/// The buckets of `size` that overlap `[from, to)`, in order, each clipped to the window.
/// Empty for [`BucketSize::None`] or an empty window.
pub fn spans(from: Millis, to: Millis, size: BucketSize) -> Vec<Span> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let (mut start, next): (Millis, fn(Millis) -> Millis) = match size {
        BucketSize::None => return out,
        BucketSize::Week => (week_start(from), |s| s + WEEK_MS),
        BucketSize::Month => (month_start(from), next_month_start),
    };
    while start < to {
        let end = next(start);
        out.push(Span {
            start,
            end,
            from: start.max(from),
            to: end.min(to),
        });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i64, month: i64, day: i64) -> Millis {
        pave_stdx::time::days_from_civil(year, month, day) * DAY_MS
    }

    #[test]
    fn epoch_week_starts_on_the_monday_before() {
        // 1970-01-01 was a Thursday; its ISO week began Monday 1969-12-29.
        assert_eq!(week_start(0), date(1969, 12, 29));
        assert_eq!(week_start(-1), date(1969, 12, 29));
    }
}
