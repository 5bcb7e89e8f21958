//! The Backstage-compatible catalog API under `/api/catalog`: every route the current
//! `@backstage/catalog-client` calls, with Backstage's status codes and JSON shapes
//! (`entities.rs`: entities, facets, validation, refresh; `locations.rs`: locations and
//! analysis). The README's compatibility table lists each route and any deliberate
//! difference.

pub(crate) mod entities;
pub(crate) mod locations;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use pave_catalog::query::{EntityFilter, FieldSelection};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Query parameters in order, repeats kept (`filter=a&filter=b`).
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: Option<String>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
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

pub(crate) fn json_array<'a>(
    items: impl IntoIterator<Item = std::borrow::Cow<'a, str>>,
    size_hint: usize,
) -> String {
    let mut out = String::with_capacity(size_hint);
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}
