//! The client against a tiny local HTTP server that answers what each test wants: results,
//! API errors, garbage, slow answers, dropped connections.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pave_prometheus::{Client, ClientOptions, Data, Error, Method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// What the fake server does with a request.
#[derive(Clone)]
enum Reply {
    /// Answer with this status and body after `delay`.
    Answer(u16, String, Duration),
    /// Close the connection after reading the request.
    Hang,
    /// Close the connection without answering.
    Close,
}

struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    max_in_flight: Arc<AtomicUsize>,
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn fake(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let reply = Arc::new(reply);
    let (log, max) = (Arc::clone(&requests), Arc::clone(&max_in_flight));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (log, reply) = (Arc::clone(&log), Arc::clone(&reply));
            let (in_flight, max) = (Arc::clone(&in_flight), Arc::clone(&max));
            tokio::spawn(async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                let request = read_request(&mut stream).await;
                log.lock().await.push(request.clone());
                match reply(&request) {
                    Reply::Answer(status, body, delay) => {
                        tokio::time::sleep(delay).await;
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(body.as_bytes()).await;
                    }
                    Reply::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                    Reply::Close => {}
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Fake {
        url,
        requests,
        max_in_flight,
    }
}

fn vector(value: &str) -> String {
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"sloth_id":"a"}},"value":[1700000000,"{value}"]}}]}}}}"#
    )
}

fn client(url: &str) -> Client {
    Client::new(url, ClientOptions::default()).unwrap()
}

#[tokio::test]
async fn posts_the_query_and_reads_a_vector() {
    let server = fake(|_| Reply::Answer(200, vector("0.25"), Duration::ZERO)).await;
    let url = server.url.replace("http://", "http://bob:pw@");
    let (samples, warnings) = client(&url)
        .query_vector("slo:x{a=\"b\"}", Some(1_700_000_000.0))
        .await
        .unwrap();
    assert!(warnings.is_empty());
    assert_eq!(samples[0].labels["sloth_id"], "a");
    assert_eq!(samples[0].point.value, 0.25);
    let request = server.requests.lock().await[0].clone();
    assert!(
        request.starts_with("POST /api/v1/query HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.contains("query=slo%3Ax%7Ba%3D%22b%22%7D&time=1700000000.000"),
        "{request}"
    );
    assert!(
        request.contains("authorization: Basic Ym9iOnB3"),
        "{request}"
    );
}

#[tokio::test]
async fn get_and_path_prefix() {
    let server = fake(|_| Reply::Answer(200, vector("NaN"), Duration::ZERO)).await;
    let options = ClientOptions {
        method: Method::Get,
        bearer_token: Some("t0k".to_owned()),
        ..ClientOptions::default()
    };
    let c = Client::new(&format!("{}/prom/", server.url), options).unwrap();
    let result = c.query("up", None).await.unwrap();
    let Data::Vector(v) = result.data else {
        panic!()
    };
    assert!(v[0].point.value.is_nan());
    let request = server.requests.lock().await[0].clone();
    assert!(
        request.starts_with("GET /prom/api/v1/query?query=up HTTP/1.1"),
        "{request}"
    );
    assert!(request.contains("authorization: Bearer t0k"), "{request}");
}

#[tokio::test]
async fn api_errors_and_garbage() {
    let server = fake(|request| {
        if request.contains("query=bad") {
            Reply::Answer(
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error"}"#.to_owned(),
                Duration::ZERO,
            )
        } else if request.contains("query=scalar") {
            Reply::Answer(
                200,
                r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#
                    .to_owned(),
                Duration::ZERO,
            )
        } else {
            Reply::Answer(200, "<html>hello</html>".to_owned(), Duration::ZERO)
        }
    })
    .await;
    let c = client(&server.url);
    let e = c.query_vector("bad", None).await.unwrap_err();
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e}");
    assert!(e.to_string().contains("bad_data") && e.to_string().contains("parse error"));

    let e = c.query_vector("scalar", None).await.unwrap_err();
    assert!(
        e.to_string().contains("returned a scalar") && e.to_string().contains("expected a vector"),
        "{e}"
    );

    let e = c.query_vector("garbage", None).await.unwrap_err();
    assert!(matches!(e, Error::Garbage { .. }), "{e}");
    assert!(e.to_string().contains("<html>hello</html>"), "{e}");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = fake(|_| Reply::Answer(200, vector("1"), Duration::from_secs(5))).await;
    let options = ClientOptions {
        timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    let started = std::time::Instant::now();
    let e = Client::new(&server.url, options)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(
        e.to_string().contains("did not answer within 200ms")
            && e.to_string().contains(&server.url),
        "{e}"
    );

    let hanging = fake(|_| Reply::Hang).await;
    let options = ClientOptions {
        timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    let e = Client::new(&hanging.url, options)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
}

#[tokio::test]
async fn unreachable_and_dropped_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}");
    let e = client(&url).query("up", None).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("cannot reach Prometheus at {url}")) && text.contains("refused"),
        "{text}"
    );

    let closing = fake(|_| Reply::Close).await;
    let e = client(&closing.url).query("up", None).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    let server = fake(|_| Reply::Answer(200, vector(&"1".repeat(2000)), Duration::ZERO)).await;
    let options = ClientOptions {
        max_body_bytes: 1000,
        ..ClientOptions::default()
    };
    let e = Client::new(&server.url, options)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 1000, .. }), "{e}");
}

#[tokio::test]
async fn concurrency_is_bounded_and_order_kept() {
    let server = fake(|request| {
        let n = request
            .split("query=q")
            .nth(1)
            .and_then(|rest| rest.chars().next())
            .unwrap_or('0');
        Reply::Answer(200, vector(&n.to_string()), Duration::from_millis(50))
    })
    .await;
    let queries: Vec<String> = (0..8).map(|i| format!("q{i}")).collect();
    let results = client(&server.url).query_vectors(&queries, None, 3).await;
    let values: Vec<f64> = results
        .into_iter()
        .map(|r| r.unwrap().0[0].point.value)
        .collect();
    assert_eq!(values, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "{max} requests in flight");
}
