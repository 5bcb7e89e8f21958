//! Durations as `pave.yaml` and `--expires` write them: `90d`, `8h`, `30m`, `45s`, `1h30m`.

use std::time::Duration;

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Parses one or more `<integer><unit>` parts (units `w d h m s`, each at most once, largest
/// first). Zero and empty texts are refused: every duration here bounds something.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = rest[digits..].chars().next()?;
        let value: u64 = rest[..digits].parse().ok()?;
        let index = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        total = total.checked_add(value.checked_mul(UNITS[index].1)?)?;
        next_unit = index + 1;
        rest = &rest[digits + unit.len_utf8()..];
    }
    (total > 0).then(|| Duration::from_secs(total))
}

/// The shortest text [`parse_duration`] reads back as `duration` (whole seconds).
pub fn format_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    // Weeks are skipped on purpose: "90d" reads better than "12w6d".
    for (unit, size) in UNITS.into_iter().skip(1) {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let cases = [
            ("90d", Some(90 * 86_400)),
            ("8h", Some(8 * 3_600)),
            ("30m", Some(1_800)),
            ("45s", Some(45)),
            ("1h30m", Some(5_400)),
            ("2w", Some(14 * 86_400)),
            ("1d12h", Some(129_600)),
            ("0s", None),
            ("", None),
            ("90", None),
            ("d", None),
            ("1m1h", None),
            ("1h1h", None),
            ("1y", None),
            ("-1d", None),
            ("1.5h", None),
            ("99999999999999999999d", None),
            ("1d ", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).map(|d| d.as_secs()), want, "{text:?}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["90d", "8h", "30m", "45s", "1d12h", "7d"] {
            let d = parse_duration(text).unwrap_or_default();
            assert_eq!(format_duration(d), text);
        }
        assert_eq!(format_duration(Duration::from_secs(14 * 86_400)), "14d");
    }
}
