//! `POST /admin/api/shutdown {"minutes": N}`: tells every signed-in user
//! that the server goes down in N minutes (the system message the clients
//! show), then stops it gracefully as SIGTERM does (`OUT SSD`). `0`: at
//! once, without the message.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tracing::info;

use super::error;
use crate::routes::AppState;

/// The longest announced delay: the clients' message says minutes, and a
/// day is far past any maintenance window.
const MAX_MINUTES: u32 = 24 * 60;

#[derive(Deserialize)]
pub(super) struct ShutdownRequest {
    minutes: u32,
}

pub(super) async fn shutdown(
    State(state): State<Arc<AppState>>,
    Json(request): Json<ShutdownRequest>,
) -> Response {
    let Some(access) = state.ctx.admin.clone() else {
        return error(StatusCode::NOT_FOUND, "no admin API");
    };
    let minutes = request.minutes;
    if minutes > MAX_MINUTES {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("minutes: at most {MAX_MINUTES}"),
        );
    }
    let told = if minutes > 0 {
        state.ctx.service.warn_shutdown(minutes).await
    } else {
        0
    };
    info!(minutes, "shutdown requested by an operator");
    let stopping = state.ctx.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(u64::from(minutes) * 60)) => {
                access.stop_requested.cancel();
            }
            // Stopped some other way meanwhile.
            () = stopping.cancelled() => {}
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "told": told, "minutes": minutes })),
    )
        .into_response()
}
