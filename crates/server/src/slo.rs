//! Live status of the SLOs attached to entities (`pave serve --prometheus-url`), cached
//! briefly in memory. The SLOs themselves are read into the platform's snapshot
//! (`pave_platform::slo`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pave_slo_status::{SloStatus, SloTarget, StatusOptions};

/// How long live statuses are reused.
const CACHE_FOR: Duration = Duration::from_secs(30);
/// Time limit of one status read.
const TIMEOUT: Duration = Duration::from_secs(2);

type Cached = (Instant, Arc<Result<HashMap<String, SloStatus>, String>>);

/// Live SLO status from one Prometheus, cached per entity.
pub struct LiveStatus {
    client: pave_prometheus::Client,
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
}

impl LiveStatus {
    /// A reader for the Prometheus at `url`.
    ///
    /// # Errors
    /// When the URL is not a usable Prometheus address.
    pub fn new(url: &str) -> Result<LiveStatus, pave_prometheus::Error> {
        let options = pave_prometheus::ClientOptions {
            timeout: TIMEOUT,
            ..pave_prometheus::ClientOptions::default()
        };
        Ok(LiveStatus {
            client: pave_prometheus::Client::new(url, options)?,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The statuses of `targets` (by SLO id) for entity `key`, or why they could not be read.
    pub async fn status(
        &self,
        key: &str,
        targets: &[SloTarget],
    ) -> Arc<Result<HashMap<String, SloStatus>, String>> {
        let mut cache = self.cache.lock().await;
        if let Some((at, value)) = cache.get(key)
            && at.elapsed() < CACHE_FOR
        {
            return Arc::clone(value);
        }
        let fetched = tokio::time::timeout(
            TIMEOUT + Duration::from_millis(500),
            pave_slo_status::fetch_status(&self.client, targets, &StatusOptions::default()),
        )
        .await;
        let value = Arc::new(match fetched {
            Ok(Ok(report)) => Ok(report.slos.into_iter().map(|s| (s.id.clone(), s)).collect()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
        });
        if let Err(e) = value.as_ref() {
            tracing::warn!(entity = key, error = %e, "cannot read SLO status from Prometheus");
        }
        cache.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
        cache.insert(key.to_owned(), (Instant::now(), Arc::clone(&value)));
        value
    }
}
