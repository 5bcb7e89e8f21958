//! Receiving deliveries: checks in the caller's task, then one writer task that commits
//! whatever is queued in one transaction and answers every caller after the commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pave_audit::{Actor, ActorKind, AuditEvent, Outcome};
use pave_events::{Headers, Source, authenticate};
use pave_store::{Accepted, NewDelivery, Store};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::config::IntakeConfig;
use crate::error::IntakeError;

/// What the sender is told once its delivery is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The delivery's number in the store (the first one's, for a duplicate).
    pub seq: i64,
    /// The same `(source, id)` was recorded before: nothing changed.
    pub duplicate: bool,
    /// The sender's idempotency key.
    pub id: String,
    /// Normalised events the delivery carries.
    pub events: usize,
    /// Why it carries none (an event type pave does not read), when it does not.
    pub ignored: Option<String>,
}

/// Where a request came from, for audit records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: Option<String>,
    pub request_id: Option<String>,
}

/// One delivery waiting for the writer.
struct Job {
    delivery: NewDelivery,
    audit: AuditEvent,
    events: usize,
    ignored: Option<String>,
    reply: oneshot::Sender<Result<Receipt, IntakeError>>,
}

/// Refusals of one client and source: the first in each window is audited, the rest are
/// counted into the next record, so a flood of bad signatures cannot flood the audit log.
struct RefusalWindow {
    started: Instant,
    suppressed: u64,
}

const REFUSAL_WINDOW: Duration = Duration::from_secs(10);
/// Clients remembered for refusal windows; past it the table starts over.
const REFUSAL_CLIENTS: usize = 10_000;

/// Held while the writer must not commit (see [`Intake::pause`]).
pub struct PauseGuard {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// The intake: cheap to share (`Arc`), every method callable from any task.
pub struct Intake {
    store: Arc<dyn Store>,
    config: IntakeConfig,
    queue: mpsc::Sender<Job>,
    committed: Arc<Notify>,
    pause: Arc<tokio::sync::Mutex<()>>,
    refusals: Mutex<HashMap<(String, Source), RefusalWindow>>,
}

impl Intake {
    /// Starts the writer task on the current tokio runtime. It stops when the `Intake` is
    /// dropped, after committing what was queued.
    pub fn start(store: Arc<dyn Store>, config: IntakeConfig) -> Intake {
        let (queue, receiver) = mpsc::channel(config.queue_capacity.max(1));
        let committed = Arc::new(Notify::new());
        let pause = Arc::new(tokio::sync::Mutex::new(()));
        tokio::spawn(writer(
            store.clone(),
            receiver,
            config.max_batch.max(1),
            committed.clone(),
            pause.clone(),
        ));
        Intake {
            store,
            config,
            queue,
            committed,
            pause,
            refusals: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &IntakeConfig {
        &self.config
    }

    /// Notified after every commit that recorded a new delivery: what the [`crate::Processor`]
    /// waits on.
    pub fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// Stops the writer from committing until the guard is dropped (after the batch in
    /// progress): for maintenance that must see no new deliveries, and to show a full queue.
    /// Senders get 429 once the queue fills.
    pub async fn pause(&self) -> PauseGuard {
        PauseGuard {
            _guard: self.pause.clone().lock_owned().await,
        }
    }

    /// [`Intake::receive_from`] with no request details.
    pub async fn receive(
        &self,
        source: &str,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        received_at: i64,
    ) -> Result<Receipt, IntakeError> {
        self.receive_from(&Origin::default(), source, headers, body, received_at)
            .await
    }

    /// Checks a delivery posted to `source`, queues it, and answers once it is committed.
    /// In order: an unknown or unconfigured source is [`IntakeError::UnknownSource`] /
    /// [`IntakeError::NotConfigured`]; a body over the limit [`IntakeError::TooLarge`]
    /// (checked before the signature, which costs a pass over the body); a delivery that is
    /// not authentic [`IntakeError::Unauthorized`], audited; one that cannot be read
    /// [`IntakeError::BadRequest`] with the parser's position; a full queue
    /// [`IntakeError::Busy`].
    pub async fn receive_from(
        &self,
        origin: &Origin,
        source: &str,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        received_at: i64,
    ) -> Result<Receipt, IntakeError> {
        let source: Source = source.parse()?;
        if !self.config.secrets.is_configured(source) {
            return Err(IntakeError::NotConfigured(source));
        }
        self.check_size(body)?;
        let authenticated = match authenticate(source, headers, body, &self.config.secrets) {
            Ok(authenticated) => authenticated,
            Err(error) => {
                self.audit_refusal(origin, source, &error.to_string(), received_at)
                    .await;
                return Err(IntakeError::Unauthorized(error));
            }
        };
        let actor = Actor {
            kind: ActorKind::Workload,
            id: format!("webhook:{source}"),
            role: None,
        };
        let secret = match authenticated.secret {
            pave_events::SecretSlot::Current => "current",
            pave_events::SecretSlot::Previous => "previous",
        };
        self.enqueue(
            origin,
            source,
            headers,
            body,
            received_at,
            actor,
            json!({"secret": secret}),
        )
        .await
    }

    /// Records a delivery pave makes itself (a declared incident, the demo's history) through
    /// the same queue, transaction and audit as a received one, without a secret: the
    /// caller has authorized `actor` already.
    pub async fn record(
        &self,
        source: Source,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        received_at: i64,
        actor: Actor,
    ) -> Result<Receipt, IntakeError> {
        self.check_size(body)?;
        self.enqueue(
            &Origin::default(),
            source,
            headers,
            body,
            received_at,
            actor,
            json!({}),
        )
        .await
    }

    pub(crate) fn check_size(&self, body: &[u8]) -> Result<(), IntakeError> {
        if body.len() > self.config.body_limit {
            return Err(IntakeError::TooLarge {
                size: body.len(),
                limit: self.config.body_limit,
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn enqueue(
        &self,
        origin: &Origin,
        source: Source,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        received_at: i64,
        actor: Actor,
        mut details: Value,
    ) -> Result<Receipt, IntakeError> {
        let delivery = pave_events::read(source, headers, body, &self.config.read)
            .map_err(IntakeError::BadRequest)?;
        if let Some(map) = details.as_object_mut() {
            map.insert("kind".into(), Value::from(delivery.kind.as_str()));
            map.insert("events".into(), Value::from(delivery.events.len()));
        }
        let audit = AuditEvent {
            time_ms: received_at,
            actor,
            action: "events.receive".to_owned(),
            target: format!("events/{source}/{}", delivery.id),
            outcome: Outcome::Success,
            source: origin.address.clone(),
            request_id: origin.request_id.clone(),
            details,
        };
        self.submit(
            NewDelivery {
                source: source.as_str().to_owned(),
                delivery_id: delivery.id,
                received_at,
                headers: stored_headers(headers),
                body: body.to_vec(),
            },
            audit,
            delivery.events.len(),
            delivery.ignored,
        )
        .await
    }

    /// Queues a delivery (checked already) with its audit record for the writer, and waits
    /// for the commit.
    pub(crate) async fn submit(
        &self,
        delivery: NewDelivery,
        audit: AuditEvent,
        events: usize,
        ignored: Option<String>,
    ) -> Result<Receipt, IntakeError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            delivery,
            audit,
            events,
            ignored,
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return Err(IntakeError::Busy {
                    retry_after: self.config.retry_after,
                });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(IntakeError::Stopped),
        }
        answer.await.map_err(|_| IntakeError::Stopped)?
    }

    /// Appends `events.refused` for a delivery that failed authentication, at most once per
    /// client and source per [`REFUSAL_WINDOW`], with the count of those in between.
    async fn audit_refusal(&self, origin: &Origin, source: Source, reason: &str, at: i64) {
        let client = origin.address.clone().unwrap_or_default();
        let suppressed = {
            let mut table = self
                .refusals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if table.len() >= REFUSAL_CLIENTS {
                table.clear();
            }
            let now = Instant::now();
            match table.get_mut(&(client.clone(), source)) {
                Some(window) if now.duration_since(window.started) < REFUSAL_WINDOW => {
                    window.suppressed += 1;
                    None
                }
                Some(window) => {
                    let suppressed = window.suppressed;
                    *window = RefusalWindow {
                        started: now,
                        suppressed: 0,
                    };
                    Some(suppressed)
                }
                None => {
                    table.insert(
                        (client.clone(), source),
                        RefusalWindow {
                            started: now,
                            suppressed: 0,
                        },
                    );
                    Some(0)
                }
            }
        };
        let Some(suppressed) = suppressed else {
            return;
        };
        let mut details = json!({"reason": reason});
        if suppressed > 0 {
            details["unrecordedRefusals"] = json!(suppressed);
        }
        let event = AuditEvent {
            time_ms: at,
            actor: Actor {
                kind: ActorKind::Anonymous,
                id: String::new(),
                role: None,
            },
            action: "events.refused".to_owned(),
            target: format!("events/{source}"),
            outcome: Outcome::Denied,
            source: origin.address.clone(),
            request_id: origin.request_id.clone(),
            details,
        };
        if let Err(e) = self.store.append_audit(&[event]).await {
            tracing::error!(error = %e, "cannot append the events.refused audit record");
        }
    }
}

/// The headers a reader needs again on replay, as a JSON object of lower-case names (the
/// first value of each): the event type and delivery id headers (GitLab's `Idempotency-Key`)
/// and CloudEvents' `ce-*`
/// attributes and content type. Never credentials: secrets, tokens and signatures stay out
/// of the store.
pub fn stored_headers(headers: &(impl Headers + ?Sized)) -> String {
    let mut kept = serde_json::Map::new();
    for (name, value) in headers.pairs() {
        let name = name.to_ascii_lowercase();
        let wanted = name.starts_with("ce-")
            || matches!(
                name.as_str(),
                "content-type"
                    | "x-github-event"
                    | "x-github-delivery"
                    | "x-gitlab-event"
                    | "x-gitlab-event-uuid"
                    | "idempotency-key"
            );
        if wanted && !kept.contains_key(&name) {
            kept.insert(name, Value::from(value));
        }
    }
    Value::Object(kept).to_string()
}

/// The writer: takes what is queued (up to `max_batch`), commits it in one transaction with
/// an audit record per delivery, then answers each caller. Exits when every sender is gone.
async fn writer(
    store: Arc<dyn Store>,
    mut queue: mpsc::Receiver<Job>,
    max_batch: usize,
    committed: Arc<Notify>,
    pause: Arc<tokio::sync::Mutex<()>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        let _paused = pause.lock().await;
        // Whatever arrived meanwhile (while the previous commit ran, or while paused) goes in
        // the same transaction.
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut deliveries = Vec::with_capacity(batch.len());
        let mut audit = Vec::with_capacity(batch.len());
        for job in &mut batch {
            deliveries.push(std::mem::replace(
                &mut job.delivery,
                NewDelivery {
                    source: String::new(),
                    delivery_id: String::new(),
                    received_at: 0,
                    headers: String::new(),
                    body: Vec::new(),
                },
            ));
            audit.push(job.audit.clone());
        }
        let result = store.accept_deliveries(&deliveries, &audit).await;
        match result {
            Ok(accepted) if accepted.len() == batch.len() => {
                if accepted.iter().any(|a| matches!(a, Accepted::New { .. })) {
                    committed.notify_one();
                }
                for ((job, accepted), delivery) in batch.drain(..).zip(accepted).zip(deliveries) {
                    let _ = job.reply.send(Ok(Receipt {
                        seq: accepted.seq(),
                        duplicate: matches!(accepted, Accepted::Duplicate { .. }),
                        id: delivery.delivery_id,
                        events: job.events,
                        ignored: job.ignored,
                    }));
                }
            }
            Ok(accepted) => {
                let message = format!(
                    "the store answered for {} of {} deliveries",
                    accepted.len(),
                    batch.len()
                );
                tracing::error!("{message}");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(IntakeError::Invalid(message.clone())));
                }
            }
            Err(error) => {
                tracing::error!(error = %error, deliveries = batch.len(), "cannot record deliveries");
                let error = Arc::new(error);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(IntakeError::Store(error.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_headers_keep_what_readers_read_and_no_credentials() {
        let headers = [
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "abc"),
            ("Idempotency-Key", "f5e5f430"),
            ("X-Hub-Signature-256", "sha256=00"),
            ("Authorization", "Bearer secret"),
            ("X-Pave-Secret", "secret"),
            ("X-Gitlab-Token", "secret"),
            ("ce-id", "1"),
            ("Content-Type", "application/json"),
            ("content-type", "text/plain"),
        ];
        let stored: serde_json::Map<String, Value> =
            serde_json::from_str(&stored_headers(&headers)).unwrap();
        let names: Vec<&str> = stored.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "x-github-event",
                "x-github-delivery",
                "idempotency-key",
                "ce-id",
                "content-type"
            ]
        );
        assert_eq!(stored["content-type"], "application/json");
        assert!(!stored_headers(&headers).contains("secret"));
    }
}
