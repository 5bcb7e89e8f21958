//! Helpers the integration tests share: fixtures, signatures, JSON pointers.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use pave_events::{Delivery, Event, Headers, ReadOptions, Source, read};
use ring::hmac;
use serde_json::Value;

/// The secret every test signs with.
pub const SECRET: &[u8] = b"test-secret-0123456789";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(relative: &str) -> Vec<u8> {
    let path = fixtures().join(relative);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

pub fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("fixture is JSON")
}

/// Hex HMAC-SHA256 of `body` with `secret`, as senders put it in their signature headers.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The value at a JSON pointer; panics naming the pointer when there is none.
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the payload"))
}

pub fn text(value: &Value, pointer: &str) -> String {
    at(value, pointer)
        .as_str()
        .unwrap_or_else(|| panic!("{pointer} is not a string"))
        .to_owned()
}

pub fn opt_text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub fn number(value: &Value, pointer: &str) -> u64 {
    at(value, pointer)
        .as_u64()
        .unwrap_or_else(|| panic!("{pointer} is not a number"))
}

/// An RFC 3339 timestamp in the payload, as Unix ms, computed independently of the crate.
pub fn rfc3339(value: &Value, pointer: &str) -> i64 {
    let text = text(value, pointer);
    chrono::DateTime::parse_from_rfc3339(&text)
        .unwrap_or_else(|err| panic!("{pointer} = {text}: {err}"))
        .timestamp_millis()
}

/// `2021-04-28 21:50:00 +0200` (GitLab) as Unix ms, computed independently of the crate.
pub fn gitlab_time(value: &Value, pointer: &str) -> i64 {
    let text = text(value, pointer);
    chrono::DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S %z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&text))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(
                text.trim_end_matches(" UTC"),
                "%Y-%m-%d %H:%M:%S",
            )
            .map(|naive| naive.and_utc().fixed_offset())
        })
        .unwrap_or_else(|err| panic!("{pointer} = {text}: {err}"))
        .timestamp_millis()
}

/// The host of a URL (`https://host/path` → `host`), for expected subjects.
pub fn url_host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// Reads a delivery, panicking with the error.
pub fn read_ok(source: Source, headers: &(impl Headers + ?Sized), body: &[u8]) -> Delivery {
    read(source, headers, body, &ReadOptions::default())
        .unwrap_or_else(|err| panic!("{source} delivery not read: {err}"))
}

/// The single event of a delivery.
pub fn only_event(delivery: &Delivery) -> &Event {
    assert_eq!(
        delivery.events.len(),
        1,
        "expected one event: {delivery:#?}"
    );
    assert_eq!(delivery.ignored, None);
    &delivery.events[0]
}

/// `CI=true` makes a missing corpus a failure; elsewhere it is a skip with a note.
pub fn corpus(name: &str) -> Option<PathBuf> {
    pave_testkit::corpus(name, ".")
}

/// Files with the extension `json` in `dir`, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}
