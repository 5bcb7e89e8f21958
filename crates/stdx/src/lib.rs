//! Helpers too small for a crate of their own and needed by several (rust-analyzer's `stdx`
//! is the model). No I/O besides reading the clock, no dependencies.

pub mod time;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Lowercase hexadecimal of `bytes` (digests, signatures, ids).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The number of threads worth running on this machine (at least 1).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Maps `f` over `items` on up to `threads` scoped threads and returns the results in the
/// order of `items`. Each thread takes the next item when it is done with one, so uneven
/// items (a large file among small ones) spread evenly.
///
/// A panic in `f` is re-raised here, in the caller's thread, after the other workers stop:
/// a worker's bug is never turned into missing results. (Callers that write what they
/// computed, such as ingestion, rely on this to keep the previous state.)
pub fn par_map<T, R>(items: Vec<T>, threads: usize, f: impl Fn(T) -> R + Sync) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let len = items.len();
    // Each item is taken exactly once, by index; a slot is a `Mutex` so that workers can take
    // items without unsafe code.
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|t| std::sync::Mutex::new(Some(t)))
        .collect();
    let next = AtomicUsize::new(0);
    let f = &f;
    let slots = &slots;
    let next = &next;
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else { break };
                        let item = match slot.lock() {
                            Ok(mut guard) => guard.take(),
                            Err(poisoned) => poisoned.into_inner().take(),
                        };
                        if let Some(item) = item {
                            done.push((i, f(item)));
                        }
                    }
                    done
                })
            })
            .collect();
        let mut all = Vec::with_capacity(len);
        let mut panic = None;
        for handle in handles {
            match handle.join() {
                Ok(done) => all.extend(done),
                Err(payload) => {
                    // Let the others finish their item (their results are dropped), then
                    // re-raise the first panic.
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                    panic.get_or_insert(payload);
                }
            }
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        all
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Appends `s` quoted as Go's `strconv.Quote` (and `%q`) quotes it: Prometheus label
/// values in generated rules, Rego's `sprintf("%q")`.
pub fn go_quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), expected);
    }

    #[test]
    fn keeps_order_on_any_number_of_threads() {
        for threads in [0, 1, 2, 7, 64] {
            let out = par_map((0..1000).collect(), threads, |i: u64| i * 2);
            assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        }
        assert!(par_map(Vec::<u8>::new(), 4, |x| x).is_empty());
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            par_map((0..100).collect(), 4, |i: u32| {
                assert!(i != 57, "item 57 is bad");
                i
            })
        });
        let payload = caught.expect_err("the panic must not be swallowed");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        assert!(message.contains("item 57 is bad"), "{message}");
    }
}
