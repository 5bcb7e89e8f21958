//! The web portal (server-rendered HTML).

use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/", get(|| async { Redirect::to("/catalog") }))
}
