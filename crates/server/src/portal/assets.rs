//! Static files (stylesheet, scripts, icon) compiled into the binary from `assets/`.
//!
//! Pages link them as `/static/<file>?v=<content hash>`; a request carrying the current hash
//! may be cached for good, anything else for an hour. Every response has an `ETag`.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// Short content hashes, by file name.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            Some((name.into_owned(), short_hash(&file.metadata.sha256_hash())))
        })
        .collect()
});

fn short_hash(hash: &[u8; 32]) -> String {
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The URL pages use for `name`, with a cache-busting version.
pub(crate) fn url(name: &str) -> String {
    match VERSIONS.get(name) {
        Some(version) => format!("/static/{name}?v={version}"),
        None => format!("/static/{name}"),
    }
}

fn content_type(name: &str, guessed: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map_or("", |(_, ext)| ext)
        .to_ascii_lowercase();
    let mime = match ext.as_str() {
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "" | "txt" => "text/plain",
        _ => guessed,
    };
    if mime.starts_with("text/") || mime == "image/svg+xml" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}

/// `GET /static/{*path}`.
pub(crate) async fn serve(
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such static file",
        )
            .into_response();
    };
    let hash = short_hash(&file.metadata.sha256_hash());
    let etag = format!("\"{hash}\"");
    let versioned = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == format!("v={hash}")));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        }) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = content_type(&path, file.metadata.mimetype());
        ([(header::CONTENT_TYPE, mime)], file.data.into_owned()).into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linked_asset_is_embedded_and_versioned() {
        for name in ["style.css", "htmx.min.js", "portal.js", "favicon.svg"] {
            assert!(Assets::get(name).is_some(), "{name} is not embedded");
            assert!(
                url(name).starts_with(&format!("/static/{name}?v=")),
                "{}",
                url(name)
            );
        }
        assert_eq!(content_type("a/b.css", "x"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("htmx.min.js", "x"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("LICENSE-htmx", "application/octet-stream"),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn htmx_keeps_its_licence_note() {
        let htmx = Assets::get("htmx.min.js").unwrap();
        assert!(htmx.data.starts_with(b"/* htmx 2.0.11, 0BSD"));
        assert!(Assets::get("LICENSE-htmx").is_some());
    }
}
