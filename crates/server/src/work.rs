//! Bounded work per request. CPU-heavy handlers — facets, listings and queries over the
//! whole catalog, predicate evaluation, the portal's catalog list and large entity pages,
//! entity validation — run on tokio's blocking pool behind their own concurrency limit
//! ([`HeavyWork`]), never on the async worker threads: a by-name read, `/healthz` or an
//! admission review is answered between them at its usual latency, while heavy requests
//! queue. A heavy request that finds the queue full, or waits longer than allowed, gets a
//! 503 with `Retry-After` at once instead of piling up behind the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pave_catalog::query::RequestLimits;
use tokio::sync::Semaphore;

/// How much work requests may cause (`pave serve --max-heavy-requests` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkLimits {
    /// Heavy requests that run at once (default: the number of cores).
    pub max_heavy: usize,
    /// Heavy requests that may wait for a slot; one more is answered 503 at once.
    pub max_queued: usize,
    /// How long a heavy request waits for a slot before it is answered 503.
    pub max_wait: Duration,
    /// Caps on what one catalog request may ask for.
    pub request: RequestLimits,
}

impl Default for WorkLimits {
    fn default() -> Self {
        WorkLimits {
            max_heavy: cores(),
            max_queued: DEFAULT_MAX_QUEUED,
            max_wait: DEFAULT_MAX_WAIT,
            request: RequestLimits::default(),
        }
    }
}

/// Heavy requests waiting for a slot, at most (`--heavy-queue`).
pub(crate) const DEFAULT_MAX_QUEUED: usize = 64;
/// How long a heavy request may wait for a slot (`--heavy-wait`).
pub(crate) const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(10);
/// What `Retry-After` says when heavy work is refused: heavy requests take milliseconds to
/// a second, so the queue moves quickly.
const RETRY_AFTER_SECS: u64 = 2;

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// Why heavy work did not produce an answer.
#[derive(Debug)]
pub(crate) enum WorkError {
    /// Too many heavy requests: try again after `retry_after` seconds (503).
    Busy { message: String, retry_after: u64 },
    /// The job panicked (500); logged here.
    Failed,
}

/// The concurrency limit of heavy requests.
pub(crate) struct HeavyWork {
    slots: Arc<Semaphore>,
    /// Requests waiting for a slot now.
    queued: AtomicUsize,
    limits: WorkLimits,
}

/// Counts a request in the queue for as long as it waits (also when its future is dropped
/// because the client went away).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        ::metrics::gauge!("pave_heavy_requests_queued").decrement(1.0);
    }
}

impl HeavyWork {
    pub(crate) fn new(limits: WorkLimits) -> Self {
        let limits = WorkLimits {
            max_heavy: limits.max_heavy.max(1),
            ..limits
        };
        HeavyWork {
            slots: Arc::new(Semaphore::new(limits.max_heavy)),
            queued: AtomicUsize::new(0),
            limits,
        }
    }

    pub(crate) fn limits(&self) -> &WorkLimits {
        &self.limits
    }

    /// Runs `job` on the blocking pool once a slot is free; refuses at once when
    /// `max_queued` requests are already waiting, or after `max_wait`.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkError> {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.queued.fetch_add(1, Ordering::AcqRel) >= self.limits.max_queued {
                    self.queued.fetch_sub(1, Ordering::AcqRel);
                    return Err(self.busy(format!(
                        "the server is busy: {} heavy requests running and {} waiting (at most {}); try again shortly",
                        self.limits.max_heavy, self.limits.max_queued, self.limits.max_queued
                    )));
                }
                ::metrics::gauge!("pave_heavy_requests_queued").increment(1.0);
                let _queued = Queued(&self.queued);
                let acquired = tokio::time::timeout(
                    self.limits.max_wait,
                    Arc::clone(&self.slots).acquire_owned(),
                )
                .await;
                match acquired {
                    Ok(Ok(permit)) => permit,
                    // The semaphore is never closed; treat it as busy all the same.
                    Ok(Err(_)) | Err(_) => {
                        return Err(self.busy(format!(
                            "the server is busy: no slot for this request within {} s ({} heavy requests at a time); try again shortly",
                            self.limits.max_wait.as_secs_f64(),
                            self.limits.max_heavy
                        )));
                    }
                }
            }
        };
        // Pages rendered on the blocking pool still show who is signed in.
        let viewer = crate::auth::VIEWER
            .try_with(Clone::clone)
            .unwrap_or_default();
        let answer = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            crate::auth::VIEWER.sync_scope(viewer, job)
        })
        .await;
        answer.map_err(|e| {
            tracing::error!(error = %e, "a heavy request failed");
            WorkError::Failed
        })
    }

    fn busy(&self, message: String) -> WorkError {
        ::metrics::counter!("pave_heavy_requests_refused_total").increment(1);
        WorkError::Busy {
            message,
            retry_after: RETRY_AFTER_SECS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_heavy: usize, max_queued: usize, max_wait_ms: u64) -> WorkLimits {
        WorkLimits {
            max_heavy,
            max_queued,
            max_wait: Duration::from_millis(max_wait_ms),
            request: RequestLimits::default(),
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_a_long_wait_later() {
        let work = Arc::new(HeavyWork::new(limits(1, 1, 300)));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let running = {
            let work = Arc::clone(&work);
            tokio::spawn(async move {
                work.run(move || {
                    let _ = hold.recv();
                    7
                })
                .await
            })
        };
        // Wait until the first job holds the only slot.
        while work.slots.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let waiting = {
            let work = Arc::clone(&work);
            tokio::spawn(async move { work.run(|| 8).await })
        };
        while work.queued.load(Ordering::Acquire) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The queue (one) is full: refused without waiting.
        let started = std::time::Instant::now();
        let refused = work.run(|| 9).await;
        assert!(
            matches!(refused, Err(WorkError::Busy { ref message, retry_after: 2 }) if message.contains("waiting"))
        );
        assert!(started.elapsed() < Duration::from_millis(250));
        // The waiting one gives up after its 300 ms.
        let waited = waiting.await.unwrap();
        assert!(
            matches!(waited, Err(WorkError::Busy { ref message, .. }) if message.contains("within 0.3 s"))
        );
        assert_eq!(work.queued.load(Ordering::Acquire), 0);
        release.send(()).unwrap();
        assert!(matches!(running.await.unwrap(), Ok(7)));
        // Slots free again: work runs.
        assert!(matches!(work.run(|| 10).await, Ok(10)));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_frees_its_slot() {
        let work = HeavyWork::new(limits(1, 0, 100));
        let failed = work.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(WorkError::Failed)));
        assert!(matches!(work.run(|| 1).await, Ok(1)));
    }
}
