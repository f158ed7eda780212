//! `POST /admin/api/disable` and `/enable` `{"user": …}`: a disabled
//! account cannot sign in, and its sessions end at once. Lists and
//! messages are kept. The same store call as `msnd user disable`, so a
//! server started later agrees.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::{error as log_error, info};

use super::{UserRequest, error};
use crate::routes::AppState;

pub(super) async fn disable(
    State(state): State<Arc<AppState>>,
    Json(request): Json<UserRequest>,
) -> Response {
    set_disabled(&state, &request, true).await
}

pub(super) async fn enable(
    State(state): State<Arc<AppState>>,
    Json(request): Json<UserRequest>,
) -> Response {
    set_disabled(&state, &request, false).await
}

async fn set_disabled(state: &AppState, request: &UserRequest, disabled: bool) -> Response {
    let handle = match request.handle() {
        Ok(h) => h,
        Err(response) => return *response,
    };
    match state
        .ctx
        .store
        .set_disabled(handle.as_str(), disabled)
        .await
    {
        Ok(true) => {
            if disabled {
                // The change log would end them within a second anyway;
                // an operator expects it now.
                state.ctx.service.end_sessions(&handle).await;
                state.ctx.tokens.revoke_account(&handle);
            }
            info!(user = %handle, disabled, "account state changed by an operator");
            Json(serde_json::json!({ "user": handle.as_str(), "disabled": disabled }))
                .into_response()
        }
        Ok(false) => error(StatusCode::NOT_FOUND, "no such account"),
        Err(e) => {
            log_error!(error = %e, "admin API: cannot change an account");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the database failed")
        }
    }
}
