//! LISTEN/NOTIFY on `pave_catalog` (migration 0005): a listener task per store, started on
//! the first wait, wakes the replica that follows changes as soon as another one commits.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// The channel the version trigger announces on.
const CHANNEL: &str = "pave_catalog";

/// How long to wait before listening again after the connection failed.
const RECONNECT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// One stored permit: a notification between two waits is not lost.
    notify: Notify,
    started: OnceLock<()>,
}

impl Changes {
    /// Waits for a notification or `timeout`, starting the listener on first use.
    pub(crate) async fn wait(self: &Arc<Self>, pool: &PgPool, timeout: Duration) {
        self.started.get_or_init(|| {
            tokio::spawn(listen(pool.clone(), Arc::downgrade(self)));
        });
        let _ = tokio::time::timeout(timeout, self.notify.notified()).await;
    }
}

/// Listens until the store is dropped, reconnecting after failures; every (re)connection
/// wakes the waiter once, since a change may have been announced while nobody listened.
async fn listen(pool: PgPool, changes: Weak<Changes>) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => loop {
                let Some(changes) = changes.upgrade() else {
                    return;
                };
                changes.notify.notify_one();
                drop(changes);
                if let Err(e) = listener.recv().await {
                    tracing::warn!(error = %e, "lost the catalog change notifications; listening again");
                    break;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for catalog changes; polling until it can");
            }
        }
        if changes.strong_count() == 0 || pool.is_closed() {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}
