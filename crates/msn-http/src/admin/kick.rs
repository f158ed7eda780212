//! `POST /admin/api/kick {"user": …}`: signs the user out of every
//! session (`OUT OTH`) and chat. They may sign in again; to keep them
//! out, disable the account.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{UserRequest, error};
use crate::routes::AppState;

pub(super) async fn kick(
    State(state): State<Arc<AppState>>,
    Json(request): Json<UserRequest>,
) -> Response {
    let handle = match request.handle() {
        Ok(h) => h,
        Err(response) => return *response,
    };
    if state.ctx.service.kick(&handle).await {
        Json(serde_json::json!({ "user": handle.as_str(), "signed_out": true })).into_response()
    } else {
        error(StatusCode::NOT_FOUND, "the user is not signed in")
    }
}
