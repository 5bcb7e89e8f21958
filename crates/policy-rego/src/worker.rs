//! Evaluation threads: each thread that evaluates policies hands the work to a long-lived
//! helper thread of its own with a large stack ([`EVAL_STACK`]), and waits for it at most a
//! hard wall-clock limit.
//!
//! Why: regorus evaluates recursively on the caller's stack (2 MiB on Rust's worker threads)
//! and a stack overflow aborts the whole process, which no `catch_unwind` can stop; a
//! builtin that runs long between regorus's timer checks would hold the caller past
//! `--rego-timeout`. With the helper thread, the stack is known (and rule chains are bounded
//! to fit it, `crate::recursion`), a panic is caught there, and a caller that waited too long
//! abandons the helper (it finishes or not on its own; the next evaluation gets a new one).
//! A helper per calling thread, rather than a thread per evaluation, keeps the cost of
//! checking 100,000 documents to a channel round trip each.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The stack of evaluation threads. Memory is committed only as it is used.
pub const EVAL_STACK: usize = 64 << 20;

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    static HELPER: RefCell<Option<mpsc::Sender<Job>>> = const { RefCell::new(None) };
}

/// Why an evaluation gave no result.
#[derive(Debug)]
pub(crate) enum Failure {
    Panicked,
    HardLimit,
    Spawn(std::io::Error),
}

/// Runs `job` on this thread's helper and waits at most `limit` for it.
pub(crate) fn run<T: Send + 'static>(
    limit: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    let (tx, rx) = mpsc::sync_channel(1);
    let mut job: Job = Box::new(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(job)));
    });
    HELPER.with(|helper| -> Result<(), Failure> {
        let mut helper = helper.borrow_mut();
        // At most twice: a helper that died (it never should) is replaced once.
        for _ in 0..2 {
            let sender = match helper.take() {
                Some(sender) => sender,
                None => spawn().map_err(Failure::Spawn)?,
            };
            match sender.send(job) {
                Ok(()) => {
                    *helper = Some(sender);
                    return Ok(());
                }
                Err(mpsc::SendError(returned)) => job = returned,
            }
        }
        Err(Failure::Panicked)
    })?;
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::Panicked),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The helper is still busy: leave it, the next evaluation starts a new one.
            HELPER.with(|helper| helper.borrow_mut().take());
            Err(Failure::HardLimit)
        }
    }
}

fn spawn() -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    thread::Builder::new()
        .name("pave-rego".into())
        .stack_size(EVAL_STACK)
        .spawn(move || {
            // Ends when the calling thread ends (its sender is dropped) or abandons it.
            for job in rx {
                job();
            }
        })?;
    Ok(tx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn results_panics_and_overruns() {
        assert_eq!(run(Duration::from_secs(5), || 41 + 1).unwrap(), 42);
        let panicked = run(Duration::from_secs(5), || -> u8 { panic!("boom") });
        assert!(matches!(panicked, Err(Failure::Panicked)));
        // The helper survives a panic.
        assert_eq!(run(Duration::from_secs(5), || 7).unwrap(), 7);
        let slow = run(Duration::from_millis(50), || {
            thread::sleep(Duration::from_millis(500));
            1
        });
        assert!(matches!(slow, Err(Failure::HardLimit)));
        // A new helper answers while the old one is still busy.
        assert_eq!(run(Duration::from_secs(5), || 8).unwrap(), 8);
    }

    #[test]
    fn the_stack_is_large() {
        // About 16 MiB of stack frames: far past the 2 MiB of an ordinary thread.
        fn deep(n: u32) -> u64 {
            let pad = std::hint::black_box([1u8; 1024]);
            if n == 0 {
                0
            } else {
                deep(n - 1) + u64::from(pad[n as usize % 1024])
            }
        }
        assert_eq!(
            run(Duration::from_secs(30), || deep(16_000)).unwrap(),
            16_000
        );
    }
}
