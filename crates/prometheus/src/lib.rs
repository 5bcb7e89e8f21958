//! A small async client for the Prometheus HTTP API: instant queries (`/api/v1/query`) with
//! typed results, a per-request time limit, bounded concurrency and errors that say what went
//! wrong and where.
//!
//! HTTP/1.1 through hyper's low-level client (one connection per request, which is what a
//! handful of queries needs); `https://` through rustls (ring) with the system's CA bundle.
//! Basic auth comes from the URL's userinfo (`http://user:pass@host:9090`), a bearer token
//! from [`ClientOptions::bearer_token`].

mod http;
mod response;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

pub use response::parse_response;

/// A series' labels, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// One value at one time. `value` can be NaN or ±infinity (Prometheus sends `"NaN"`, `"+Inf"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix seconds.
    pub timestamp: f64,
    pub value: f64,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub point: Point,
}

/// One series of a range vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
}

/// `data` of a successful answer, by `resultType`.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Vector(Vec<Sample>),
    Scalar(Point),
    Matrix(Vec<Series>),
    String { timestamp: f64, value: String },
}

impl Data {
    /// The `resultType` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Data::Vector(_) => "vector",
            Data::Scalar(_) => "scalar",
            Data::Matrix(_) => "matrix",
            Data::String { .. } => "string",
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub data: Data,
    /// Prometheus' `warnings` (e.g. partial answers from a federated setup).
    pub warnings: Vec<String>,
}

/// What can go wrong. Every message names the Prometheus URL (without credentials).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid Prometheus URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot reach Prometheus at {url}: {error}")]
    Unreachable { url: String, error: std::io::Error },
    #[error("Prometheus at {url} did not answer within {}", show_duration(*.timeout))]
    Timeout { url: String, timeout: Duration },
    #[error("TLS with Prometheus at {url} failed: {message}")]
    Tls { url: String, message: String },
    #[error("HTTP exchange with Prometheus at {url} failed: {message}")]
    Transport { url: String, message: String },
    #[error("Prometheus at {url} answered HTTP {status} to `{query}`: {error_type}: {error}")]
    Api {
        url: String,
        status: u16,
        query: String,
        error_type: String,
        error: String,
    },
    #[error(
        "Prometheus at {url} answered HTTP {status} with a body that is not a Prometheus API response: {snippet}"
    )]
    HttpStatus {
        url: String,
        status: u16,
        snippet: String,
    },
    #[error(
        "the answer from {url} is not a Prometheus API response ({reason}); it starts with: {snippet}"
    )]
    Garbage {
        url: String,
        reason: String,
        snippet: String,
    },
    #[error("the answer from {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("Prometheus at {url} returned a {got} for `{query}`, expected a {expected}")]
    UnexpectedType {
        url: String,
        query: String,
        got: &'static str,
        expected: &'static str,
    },
}

fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// How requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `POST` with a form body: no URL length limit (long `=~` selectors). The default.
    #[default]
    Post,
    /// `GET` with the query in the URL, for proxies that only allow reads.
    Get,
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time limit of one request: connecting, sending and reading the whole answer.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer …` (takes precedence over userinfo in the URL).
    pub bearer_token: Option<String>,
    pub method: Method,
    /// Answers larger than this are refused.
    pub max_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            bearer_token: None,
            method: Method::Post,
            max_body_bytes: 256 << 20,
        }
    }
}

/// A Prometheus HTTP API client. Cheap to clone; safe to share between tasks.
#[derive(Clone)]
pub struct Client {
    inner: Arc<http::Endpoint>,
    options: ClientOptions,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.shown)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the Prometheus at `url` (`http://host:9090`, optionally with a path prefix
    /// such as `/prometheus`, userinfo for basic auth, or `https://`).
    ///
    /// # Errors
    /// When the URL cannot be parsed, is not http(s), or (https) the system CA bundle cannot be read.
    pub fn new(url: &str, options: ClientOptions) -> Result<Client, Error> {
        let inner = http::Endpoint::parse(url, options.bearer_token.as_deref())?;
        Ok(Client {
            inner: Arc::new(inner),
            options,
        })
    }

    /// The URL as shown in messages (credentials removed).
    pub fn url(&self) -> &str {
        &self.inner.shown
    }

    /// Runs an instant query, evaluated at `time` (Unix seconds; Prometheus' "now" if `None`).
    ///
    /// # Errors
    /// See [`Error`]: unreachable, timeout, HTTP or API errors, or an answer that is not JSON.
    pub async fn query(&self, promql: &str, time: Option<f64>) -> Result<QueryResult, Error> {
        // Built in a block: the serializer is not `Send`, so it must not live across `.await`
        // (callers such as axum handlers need a `Send` future).
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("query", promql);
            if let Some(t) = time {
                form.append_pair("time", &format!("{t:.3}"));
            }
            form.finish()
        };
        let (status, body) = self
            .inner
            .send("/api/v1/query", &form, &self.options)
            .await?;
        parse_response(&self.inner.shown, promql, status, &body)
    }

    /// [`Client::query`], expecting an instant vector.
    ///
    /// # Errors
    /// As [`Client::query`], and [`Error::UnexpectedType`] for another result type.
    pub async fn query_vector(
        &self,
        promql: &str,
        time: Option<f64>,
    ) -> Result<(Vec<Sample>, Vec<String>), Error> {
        let result = self.query(promql, time).await?;
        match result.data {
            Data::Vector(samples) => Ok((samples, result.warnings)),
            other => Err(Error::UnexpectedType {
                url: self.inner.shown.clone(),
                query: response::shorten(promql),
                got: other.kind(),
                expected: "vector",
            }),
        }
    }

    /// Runs `queries` as instant vector queries with at most `concurrency` in flight; the
    /// results come back in the order of `queries`.
    pub async fn query_vectors(
        &self,
        queries: &[String],
        time: Option<f64>,
        concurrency: usize,
    ) -> Vec<Result<(Vec<Sample>, Vec<String>), Error>> {
        // Owned queries and a cloned client: a closure borrowing them makes the future
        // fail axum's `Send` check (rustc's higher-ranked lifetime limitation).
        let client = self.clone();
        futures_util::stream::iter(queries.to_vec())
            .map(move |q| {
                let client = client.clone();
                async move { client.query_vector(&q, time).await }
            })
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

/// Runs `f` on every item with at most `concurrency` futures in flight; results keep the
/// order of `items`.
pub async fn bounded<'a, T, R, F, Fut>(items: &'a [T], concurrency: usize, f: F) -> Vec<R>
where
    F: FnMut(&'a T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    futures_util::stream::iter(items)
        .map(f)
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// Quotes `s` as a PromQL string literal (`"…"` with `\` and `"` escaped).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escapes the RE2 metacharacters in `s`, so it matches itself inside `=~`.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_regex_escaping() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(regex_escape("svc.a-b"), r"svc\.a-b");
        // An escaped regex inside a PromQL string doubles the backslash.
        assert_eq!(quote(&regex_escape("a.b")), r#""a\\.b""#);
    }

    #[test]
    fn durations_are_shown_briefly() {
        assert_eq!(show_duration(Duration::from_secs(10)), "10s");
        assert_eq!(show_duration(Duration::from_millis(250)), "250ms");
    }
}
