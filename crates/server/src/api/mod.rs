//! The Backstage-compatible catalog API under `/api/catalog`: every route the current
//! `@backstage/catalog-client` calls, with Backstage's status codes and JSON shapes
//! (`entities.rs`: entities, facets, validation, refresh; `locations.rs`: locations and
//! analysis). The README's compatibility table lists each route and any deliberate
//! difference.

pub(crate) mod audit;
pub(crate) mod checkpoints;
pub(crate) mod dora;
pub(crate) mod entities;
pub(crate) mod gate;
pub(crate) mod guardrails;
pub(crate) mod locations;
pub(crate) mod postmortems;
pub(crate) mod search;

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use pave_catalog::Catalog;
use pave_catalog::query::{EntityFilter, FieldSelection, RequestLimits};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Query parameters in order (`filter=a&filter=b`), exact repeats dropped and every cap of
/// [`RequestLimits`] checked.
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: Option<String>, limits: &RequestLimits) -> Result<Self, ApiError> {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Params(limits.tidy_params(pairs)?))
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.one(name)
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    ApiError::Input(format!(
                        "invalid {name}, must be a non-negative integer, got '{v}'"
                    ))
                })
            })
            .transpose()
    }

    /// A yes/no parameter as Backstage's `yn` reads it (`true`, `1`, `yes`, `y`, `on`).
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.one(name).is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "y" | "on"
            )
        })
    }

    pub(crate) fn filter(&self) -> Result<Option<EntityFilter>, ApiError> {
        Ok(EntityFilter::parse(&self.all("filter"))?)
    }

    pub(crate) fn fields(&self) -> Result<Option<FieldSelection>, ApiError> {
        Ok(FieldSelection::parse(&self.all("fields"))?)
    }
}

/// A JSON body, or Backstage's input error for a missing or malformed one.
pub(crate) fn body<T: DeserializeOwned>(
    body: Result<Json<T>, JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|e| {
        ApiError::Input(format!(
            "Malformed request body (did you remember to specify an application/json content type?): {}",
            e.body_text()
        ))
    })
}

pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// An id [`stream_entities`] writes as `null` (a ref with no entity).
pub(crate) const NULL_ID: u32 = u32::MAX;

/// Entities per streamed chunk, at most: with a `fields` projection, each entity is parsed
/// on the async thread that polls the body, so a chunk stays well under a millisecond.
const ENTITIES_PER_CHUNK: usize = 256;
/// Bytes per streamed chunk, about.
const CHUNK_BYTES: usize = 64 * 1024;

/// A JSON response of `prefix`, the entities `ids` as an array, and `suffix`, rendered a
/// chunk at a time as the client reads: a response holds its ids and one chunk, never the
/// whole listing, however slowly it is read.
pub(crate) fn stream_entities(
    catalog: Arc<Catalog>,
    ids: Vec<u32>,
    fields: Option<FieldSelection>,
    prefix: String,
    suffix: String,
) -> Response {
    let mut chunks = EntityChunks {
        catalog,
        ids,
        fields,
        prefix: Some(prefix),
        suffix: Some(suffix),
        next: 0,
    };
    let body = Body::from_stream(futures_util::stream::iter(
        std::iter::from_fn(move || chunks.next_chunk()).map(Ok::<_, std::convert::Infallible>),
    ));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

struct EntityChunks {
    catalog: Arc<Catalog>,
    ids: Vec<u32>,
    fields: Option<FieldSelection>,
    prefix: Option<String>,
    suffix: Option<String>,
    next: usize,
}

impl EntityChunks {
    fn next_chunk(&mut self) -> Option<axum::body::Bytes> {
        let mut chunk = match self.prefix.take() {
            Some(mut prefix) => {
                prefix.reserve(CHUNK_BYTES + 4096);
                prefix.push('[');
                prefix
            }
            None => String::with_capacity(CHUNK_BYTES + 4096),
        };
        let suffix = self.suffix.as_ref()?;
        let end = self.ids.len().min(self.next + ENTITIES_PER_CHUNK);
        while self.next < end {
            if self.next > 0 {
                chunk.push(',');
            }
            chunk.push_str(
                &self
                    .catalog
                    .render(self.ids[self.next], self.fields.as_ref()),
            );
            self.next += 1;
            if chunk.len() >= CHUNK_BYTES {
                return Some(chunk.into());
            }
        }
        if self.next < self.ids.len() {
            return Some(chunk.into());
        }
        chunk.push(']');
        chunk.push_str(suffix);
        self.suffix = None;
        Some(chunk.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_chunks_make_one_json_document() {
        let entities = (0..700)
            .map(|i| pave_catalog::FinalEntity {
                key: format!("component:default/c{i:04}"),
                uid: format!("u{i}"),
                json: format!(
                    r#"{{"kind":"Component","metadata":{{"name":"c{i:04}","uid":"u{i}"}}}}"#
                ),
                hash: String::new(),
            })
            .collect::<Vec<_>>();
        let catalog = Arc::new(Catalog::build(entities));
        for (ids, fields) in [
            ((0..700).collect::<Vec<u32>>(), None),
            (vec![3, NULL_ID, 5], None),
            (Vec::new(), None),
            (
                (0..700).collect(),
                FieldSelection::parse(&["metadata.name"]).unwrap(),
            ),
        ] {
            let mut chunks = EntityChunks {
                catalog: Arc::clone(&catalog),
                ids: ids.clone(),
                fields,
                prefix: Some("{\"items\":".into()),
                suffix: Some(",\"totalItems\":1}".into()),
                next: 0,
            };
            let mut text = String::new();
            let mut count = 0;
            while let Some(chunk) = chunks.next_chunk() {
                text.push_str(std::str::from_utf8(&chunk).unwrap());
                count += 1;
            }
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let items = value["items"].as_array().unwrap();
            assert_eq!(items.len(), ids.len());
            assert_eq!(value["totalItems"], 1);
            assert!(
                count >= ids.len().div_ceil(ENTITIES_PER_CHUNK),
                "{count} chunks"
            );
            if ids.len() == 3 {
                assert!(items[1].is_null());
                assert_eq!(items[0]["metadata"]["name"], "c0003");
            }
        }
    }
}
