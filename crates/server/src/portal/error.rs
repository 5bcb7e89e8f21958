//! The portal's error page: same layout as every other page, proper status code.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Layout, Section};

/// Why a portal page could not be shown.
#[derive(Debug)]
pub(crate) enum PortalError {
    /// No entity with this ref (`kind:namespace/name`).
    EntityNotFound(String),
    /// No portal page at this path.
    PageNotFound(String),
    /// Malformed query parameters or path.
    BadRequest(String),
    /// Signed in, but not allowed (403); the message names the permission and why.
    Forbidden(String),
    /// Our fault; details went to the log.
    Internal,
    /// Too much heavy work at once (503 with `Retry-After`).
    Busy { message: String, retry_after: u64 },
    /// A sign-in that did not complete (400, or 502 when the provider failed).
    SignInFailed { status: StatusCode, message: String },
}

impl From<crate::work::WorkError> for PortalError {
    fn from(e: crate::work::WorkError) -> Self {
        match e {
            crate::work::WorkError::Busy {
                message,
                retry_after,
            } => PortalError::Busy {
                message,
                retry_after,
            },
            crate::work::WorkError::Failed => PortalError::Internal,
        }
    }
}

impl PortalError {
    pub(crate) fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        PortalError::Internal
    }

    fn status(&self) -> StatusCode {
        match self {
            PortalError::EntityNotFound(_) | PortalError::PageNotFound(_) => StatusCode::NOT_FOUND,
            PortalError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PortalError::Forbidden(_) => StatusCode::FORBIDDEN,
            PortalError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            PortalError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            PortalError::SignInFailed { status, .. } => *status,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) layout: Layout,
    pub(crate) status: u16,
    pub(crate) heading: String,
    pub(crate) message: String,
    /// The entity ref or path that was asked for.
    pub(crate) subject: Option<String>,
    /// Where the main button leads, and what it says.
    pub(crate) back_href: String,
    pub(crate) back_label: String,
    /// A catalog search for the missing entity's name.
    pub(crate) search_href: Option<String>,
}

impl ErrorPage {
    fn of(error: &PortalError) -> Self {
        let status = error.status().as_u16();
        let (heading, message, subject, search_href) = match error {
            PortalError::EntityNotFound(reference) => {
                let name = reference.rsplit('/').next().unwrap_or(reference);
                (
                    "Entity not found",
                    "There is no entity with this reference in the catalog. It may have been \
                     renamed or removed, or its location has not been ingested yet."
                        .to_owned(),
                    Some(reference.clone()),
                    Some(super::view::catalog_href(&[("q", name)])),
                )
            }
            PortalError::PageNotFound(path) => (
                "Page not found",
                "The portal has no page at this address.".to_owned(),
                Some(path.clone()),
                None,
            ),
            PortalError::BadRequest(message) => ("Bad request", message.clone(), None, None),
            PortalError::Forbidden(message) => ("Not allowed", message.clone(), None, None),
            PortalError::Busy { message, .. } => {
                ("The server is busy", format!("{message}."), None, None)
            }
            PortalError::SignInFailed { message, .. } => {
                ("Sign-in failed", format!("{message}."), None, None)
            }
            PortalError::Internal => (
                "Something went wrong",
                "The server could not show this page. The error has been logged; please try again \
                 in a moment."
                    .to_owned(),
                None,
                None,
            ),
        };
        let (back_href, back_label) = match error {
            PortalError::SignInFailed { .. } => ("/auth/sign-in", "Sign in again"),
            _ => ("/catalog", "Back to the catalog"),
        };
        ErrorPage {
            layout: Layout::new(heading, Section::Catalog),
            status,
            heading: heading.to_owned(),
            message,
            subject,
            back_href: back_href.to_owned(),
            back_label: back_label.to_owned(),
            search_href,
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let mut response = self.page();
        if let PortalError::Busy { retry_after, .. } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
        }
        response
    }
}

impl PortalError {
    fn page(&self) -> Response {
        let status = self.status();
        match ErrorPage::of(self).render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "rendering the error page");
                (
                    status,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    status.to_string(),
                )
                    .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: PortalError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn every_error_renders_the_page_with_its_status() {
        let (status, html) = body(PortalError::Internal).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(html.contains("Something went wrong"));
        assert!(html.contains("Error 500"));
        assert!(
            html.contains(r#"class="topbar""#),
            "same layout as every page"
        );

        let (status, html) = body(PortalError::BadRequest("bad <thing>".into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("bad &#60;thing&#62;"));

        let (status, html) = body(PortalError::EntityNotFound("api:default/x".into())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("<code>api:default/x</code>"));
        assert!(
            html.contains("/catalog?q=x"),
            "offers a search for the name"
        );
    }
}
