//! What every request handler can reach: the network its path names (the live
//! one or a hosted drill's, an [`ercs_network::Network`] either way), and the
//! `{id}` its path names.

use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, web};
pub use ercs_network::{Clock, Network, View};

use crate::problem::Problem;

/// The network a handler acts on (`ercs_network::Network`), by the name the
/// handlers have always used.
pub type AppState = Network;

/// The network a request acts on: the live one, or the hosted drill its path
/// names (`/api/v1/drills/{drill}/…`). Every handler takes its network this
/// way, so the same endpoints serve live and every drill.
#[derive(Clone)]
pub struct Net(web::Data<AppState>);

impl std::ops::Deref for Net {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl Net {
    pub fn into_inner(self) -> Arc<AppState> {
        self.0.into_inner()
    }

    pub fn data(&self) -> web::Data<AppState> {
        self.0.clone()
    }
}

impl FromRequest for Net {
    type Error = Problem;
    type Future = std::future::Ready<Result<Net, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(network_of(request).map(Net))
    }
}

/// The `{id}` segment of a request's path, however many segments the path
/// has before it (a drill's path adds `{drill}`).
pub struct PathId(String);

impl PathId {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Display for PathId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for PathId {
    type Target = String;

    fn deref(&self) -> &String {
        &self.0
    }
}

impl FromRequest for PathId {
    type Error = Problem;
    type Future = std::future::Ready<Result<PathId, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            request
                .match_info()
                .get("id")
                .map(|id| PathId(id.to_owned()))
                .ok_or_else(|| Problem::not_found("the path names no resource")),
        )
    }
}

/// The network of `request`: the drill its `{drill}` segment names, else live.
pub fn network_of(request: &HttpRequest) -> Result<web::Data<AppState>, Problem> {
    match request.match_info().get("drill") {
        Some(drill) => request
            .app_data::<web::Data<crate::drills::Drills>>()
            .and_then(|drills| drills.network(drill))
            .ok_or_else(|| crate::drills::unknown_drill(drill)),
        None => request
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| Problem::unavailable("the service is starting")),
    }
}
