//! Who may ask: authentication (tokens, session cookies), onboarding,
//! signing in and out, passwords, and the tokens themselves — v2
//! authorizations and v1 (legacy) ones.

pub(crate) mod auth;
pub(crate) mod authorizations;
pub(crate) mod legacy;
pub(crate) mod session;
pub(crate) mod setup;

use axum::routing::{MethodRouter, get, post, put};

use crate::state::AppState;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2/authorizations".into(), get(authorizations::list).post(authorizations::create)),
        (
            "/api/v2/authorizations/{id}".into(),
            get(authorizations::get).patch(authorizations::patch).delete(authorizations::delete),
        ),
        ("/api/v2/me".into(), get(session::me)),
        ("/api/v2/me/password".into(), put(session::put_me_password)),
        ("/api/v2/setup".into(), get(setup::allowed).post(setup::setup)),
        ("/api/v2/signin".into(), post(session::signin)),
        ("/api/v2/signout".into(), post(session::signout)),
        ("/api/v2/users/{id}/password".into(), post(session::set_user_password).put(session::set_user_password)),
        ("/private/legacy/authorizations".into(), get(legacy::list).post(legacy::create)),
        ("/private/legacy/authorizations/{id}".into(), get(legacy::get).patch(legacy::patch).delete(legacy::delete)),
        ("/private/legacy/authorizations/{id}/password".into(), post(legacy::password)),
    ]
}
