//! Go's float formatting, so generated expressions match Sloth's byte for byte.
//!
//! Sloth prints floats with `%g`/`%v` (`strconv.FormatFloat(x, 'g', -1, 64)`): the shortest
//! digits that read back as the same float, in plain notation unless the decimal exponent is
//! below -4 or at least 6, where it switches to `d.ddde±XX`. Rust's `{}` gives the same shortest
//! digits but never an exponent (`0.000010000000000047748` where Go prints
//! `1.0000000000047748e-05`), hence this module.

/// `fmt.Sprintf("%g", x)` / `fmt.Sprint(x)` for a float64.
pub fn format_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (negative, digits, exp) = shortest_digits(x);
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        // d.ddde±XX, at least two exponent digits.
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// `strconv.FormatFloat(x, 'f', -1, 64)`: shortest digits, never an exponent (what Rust's
/// `{}` does too).
pub fn format_f(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    format!("{x}")
}

/// Sign, shortest significant digits (no leading/trailing zeros) and the decimal exponent of
/// the first digit, from Rust's shortest round-trip `{:e}` output (`1.2345e-5`).
fn shortest_digits(x: f64) -> (bool, String, i32) {
    let text = format!("{:e}", x.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (x.is_sign_negative(), digits.to_owned(), exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_go_on_known_values() {
        for (x, want) in [
            (99.9 / 100.0, "0.9990000000000001"),
            ((100.0 - 99.9) / 100.0, "0.0009999999999999432"),
            ((100.0 - 99.99) / 100.0, "0.00010000000000005117"),
            ((100.0 - 99.999) / 100.0, "1.0000000000047748e-05"),
            (2.0 * 672.0 / 100.0 / 1.0, "13.44"),
            (5.6000000000000005, "5.6000000000000005"),
            (14.4, "14.4"),
            (6.0, "6"),
            (1.0, "1"),
            (30.0, "30"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (-0.5, "-0.5"),
            (5e-324, "5e-324"),
            (0.0, "0"),
        ] {
            assert_eq!(format_g(x), want, "{x:?}");
        }
        assert_eq!(format_f(99.9), "99.9");
        assert_eq!(format_f(95.0), "95");
        assert_eq!(format_f(99.999), "99.999");
    }

    proptest! {
        #[test]
        fn reads_back_exactly_and_uses_go_notation(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL) {
            let text = format_g(x);
            prop_assert_eq!(text.parse::<f64>().ok(), Some(x), "{}", text);
            let exp = x.abs().log10().floor() as i32;
            // Away from rounding edges, the notation follows the exponent rule.
            if (x.abs().log10() - f64::from(exp)).abs() > 1e-9 {
                prop_assert_eq!(text.contains('e'), !(-4..6).contains(&exp), "{}", text);
            }
            if let Some((mantissa, e)) = text.split_once('e') {
                let digits = e.trim_start_matches(['+', '-']);
                prop_assert!(digits.len() >= 2, "{}", text);
                prop_assert!(!mantissa.ends_with('0') || !mantissa.contains('.'), "{}", text);
            }
            // Same significant digits as Rust's shortest representation.
            let plain = format!("{:e}", x);
            let sig = |s: &str| -> String {
                let m = s.split('e').next().unwrap_or("");
                m.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').trim_end_matches('0').to_owned()
            };
            prop_assert_eq!(sig(&text), sig(&plain));
        }
    }
}
