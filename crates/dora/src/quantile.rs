//! Percentiles with SQL `PERCENTILE_CONT` semantics, exactly as DuckDB's `quantile_cont`
//! computes them over a `BIGINT` column (which it answers as `DOUBLE`).
//!
//! For `n` values and a fraction `q`:
//!
//! ```text
//! rn  = (n - 1) * q                 (in f64)
//! lo  = the value of rank floor(rn) (0-based, ascending)
//! hi  = the value of rank ceil(rn)
//! result = lo                               if floor(rn) == ceil(rn)
//!        = lo * (1 - d) + hi * d, d = rn - floor(rn)   otherwise
//! ```
//!
//! The interpolation is written `lo * (1 - d) + hi * d`, not `lo + d * (hi - lo)`, because
//! that is DuckDB's double interpolation: the two forms can differ in the last bit, and a test
//! compares these figures with SQL. An empty input has no percentile (`None`, SQL `NULL`).
//!
//! Ranks are found with `select_nth_unstable` (linear time, in place): reports take medians of
//! millions of lead times and sorting them would be the slowest step.

/// The `q` percentile (`0.0..=1.0`) of `values`, reordering them in place.
///
/// ```
/// use pave_dora::quantile::percentile_cont;
/// // rn = (4 - 1) * 0.5 = 1.5: halfway between rank 1 (20) and rank 2 (30).
/// assert_eq!(percentile_cont(&mut [40, 10, 30, 20], 0.5), Some(25.0));
/// assert_eq!(percentile_cont(&mut [], 0.5), None);
/// ```
pub fn percentile_cont(values: &mut [i64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rn = (values.len() - 1) as f64 * q.clamp(0.0, 1.0);
    Some(at_fractional_rank(values, 0, rn))
}

/// The median and the 90th percentile of `values`, reordering them in place.
///
/// The second selection runs only over the part at or above the median rank, which
/// `select_nth_unstable` has already put there.
pub fn median_and_p90(values: &mut [i64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let last = (values.len() - 1) as f64;
    let median_rn = last * 0.5;
    let median = at_fractional_rank(values, 0, median_rn);
    // Everything from the median's lower rank on is at or above it, so the p90 ranks (which
    // are not below it) are found within that part.
    let offset = median_rn.floor() as usize;
    let p90 = at_fractional_rank(&mut values[offset..], offset, last * 0.9);
    (Some(median), Some(p90))
}

/// The interpolated value at fractional rank `rn` of the whole sample, given `part`: the
/// sample's values of rank `offset` and above (in any order). The ranks and the fraction are
/// taken from `rn` itself, so the result is bit-identical to selecting over the whole sample.
fn at_fractional_rank(part: &mut [i64], offset: usize, rn: f64) -> f64 {
    let floor = rn.floor();
    let ceil = rn.ceil();
    let index = (floor as usize).saturating_sub(offset).min(part.len() - 1);
    let (_, lo, above) = part.select_nth_unstable(index);
    let lo = *lo;
    if floor == ceil {
        return lo as f64;
    }
    // The rank above `floor` is the smallest value above it.
    let hi = above.iter().copied().min().unwrap_or(lo);
    let d = rn - floor;
    lo as f64 * (1.0 - d) + hi as f64 * d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorting and reading ranks directly: the definition, for comparison.
    fn by_sorting(values: &[i64], q: f64) -> Option<f64> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return None;
        }
        let rn = (sorted.len() - 1) as f64 * q;
        let (f, c) = (rn.floor(), rn.ceil());
        let lo = sorted[f as usize] as f64;
        let hi = sorted[c as usize] as f64;
        if f == c {
            Some(lo)
        } else {
            Some(lo * (1.0 - (rn - f)) + hi * (rn - f))
        }
    }

    #[test]
    fn hand_computed_values() {
        // n=1: every percentile is the value.
        assert_eq!(percentile_cont(&mut [7], 0.9), Some(7.0));
        // n=5, q=0.5: rn = 2, rank 2 of [1,2,3,4,100] = 3.
        assert_eq!(percentile_cont(&mut [100, 1, 3, 2, 4], 0.5), Some(3.0));
        // n=5, q=0.9: rn = 3.6, 4 * 0.4 + 100 * 0.6 = 61.6 (f64: 1.6 + 60.0).
        assert_eq!(
            percentile_cont(&mut [100, 1, 3, 2, 4], 0.9),
            Some(4.0 * (1.0 - 0.6000000000000001) + 100.0 * 0.6000000000000001)
        );
        // n=2, q=0.9: rn = 0.9, 10 * 0.1 + 20 * 0.9 = 19.
        let got = percentile_cont(&mut [20, 10], 0.9).unwrap();
        assert!((got - 19.0).abs() < 1e-9, "{got}");
        // Duplicates: [5,5,5,9], q=0.5: rn = 1.5, 5 * 0.5 + 5 * 0.5 = 5.
        assert_eq!(percentile_cont(&mut [5, 9, 5, 5], 0.5), Some(5.0));
    }

    #[test]
    fn median_and_p90_agree_with_sorting() {
        // A deterministic spread of sizes and values, including duplicates and negatives.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for n in 0..200usize {
            let values: Vec<i64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    ((state >> 33) % 1000) as i64 - 100
                })
                .collect();
            let mut work = values.clone();
            let (median, p90) = median_and_p90(&mut work);
            assert_eq!(median, by_sorting(&values, 0.5), "median n={n}");
            assert_eq!(p90, by_sorting(&values, 0.9), "p90 n={n}");
        }
    }
}
