//! `POST /admin/api/notice {"text": …, "url": …}`: an MSN Alert to every
//! signed-in user whose client can show one (MSN Messenger 3.0 / MSNP5
//! and later).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error;
use crate::routes::AppState;

/// Longest notice text, in characters: the clients' toast shows a few
/// lines.
const MAX_TEXT_CHARS: usize = 1000;

#[derive(Deserialize)]
pub(super) struct NoticeRequest {
    text: String,
    /// Opened when the notice is clicked; none by default.
    #[serde(default)]
    url: String,
}

pub(super) async fn notice(
    State(state): State<Arc<AppState>>,
    Json(request): Json<NoticeRequest>,
) -> Response {
    let text = request.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("text: 1 to {MAX_TEXT_CHARS} characters"),
        );
    }
    if text.chars().any(|c| c.is_control() && c != '\n')
        || request.url.chars().any(char::is_control)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "text and url: no control characters",
        );
    }
    let told = state.ctx.service.broadcast_notice(text, &request.url).await;
    Json(serde_json::json!({ "told": told })).into_response()
}
