//! One lock per registered location: reading a source, moving it or removing it holds that
//! source's lock only, so a slow source delays nothing but itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pave_store::LocationId;
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub(crate) struct SourceLocks {
    locks: Mutex<HashMap<LocationId, Arc<tokio::sync::Mutex<()>>>>,
}

impl SourceLocks {
    /// Waits for the lock of location `id`.
    pub(crate) async fn lock(&self, id: &LocationId) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = match self.locks.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            Arc::clone(locks.entry(id.clone()).or_default())
        };
        lock.lock_owned().await
    }

    /// The lock of location `id` if nobody holds it now.
    pub(crate) fn try_lock(&self, id: &LocationId) -> Option<OwnedMutexGuard<()>> {
        let lock = {
            let mut locks = match self.locks.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            Arc::clone(locks.entry(id.clone()).or_default())
        };
        lock.try_lock_owned().ok()
    }

    /// Drops the lock of a location that is gone (a holder keeps its own `Arc`).
    pub(crate) fn forget(&self, id: &LocationId) {
        let mut locks = match self.locks.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        locks.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_source_waits_for_itself_only() {
        let locks = Arc::new(SourceLocks::default());
        let slow = locks.lock(&"slow".into()).await;
        // Another source is not held up.
        tokio::time::timeout(Duration::from_millis(100), locks.lock(&"other".into()))
            .await
            .expect("another source's lock is free");
        // The same source waits until the holder is done.
        let waiting = {
            let locks = Arc::clone(&locks);
            tokio::spawn(async move { drop(locks.lock(&"slow".into()).await) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        assert!(locks.try_lock(&"slow".into()).is_none(), "busy: not taken");
        assert!(locks.try_lock(&"free".into()).is_some());
        drop(slow);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .unwrap()
            .unwrap();
    }
}
