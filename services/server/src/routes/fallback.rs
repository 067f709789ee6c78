//! What answers when no route does: a path the API has, asked with a method it
//! does not take, is a 405 with `Allow`; any other path is a 404. Both are
//! problem+json.
//!
//! The paths and their methods are read from the OpenAPI document, which is
//! generated from the same tables as the routes (and `tests/spec.rs` checks
//! that every documented operation is served), so `Allow` is what the spec says.

use actix_web::dev::ResourceDef;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::Value;

use crate::problem::{Problem, not_found_detail};

/// Every path the service serves, with the methods it takes there.
pub struct KnownPaths(Vec<(ResourceDef, Vec<Method>)>);

/// Served but not API operations, so not in the document's `paths`.
const UNDOCUMENTED: [&str; 2] = ["/api/v1/openapi.json", "/docs/{_:.*}"];

impl KnownPaths {
    pub fn of(document: &Value) -> Self {
        let mut known: Vec<(ResourceDef, Vec<Method>)> = UNDOCUMENTED
            .iter()
            .map(|path| (ResourceDef::new(*path), vec![Method::GET]))
            .collect();
        if let Some(paths) = document["paths"].as_object() {
            for (path, item) in paths {
                let methods = item
                    .as_object()
                    .into_iter()
                    .flat_map(|operations| operations.keys())
                    .filter_map(|method| method.to_ascii_uppercase().parse().ok())
                    .collect();
                known.push((ResourceDef::new(path.as_str()), methods));
            }
        }
        Self(known)
    }

    /// The methods `path` takes; empty when the service has no such path.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        // Inside a drill, the network's paths are the live ones.
        let inner = crate::drills::split(path);
        let path = inner.as_ref().map_or(path, |(_, inner)| inner.as_str());
        let mut allowed: Vec<Method> = self
            .0
            .iter()
            .filter(|(pattern, _)| pattern.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        allowed.dedup();
        allowed
    }
}

/// The default service.
pub async fn no_route(request: HttpRequest, known: web::Data<KnownPaths>) -> HttpResponse {
    let allowed = known.allowed(request.path());
    if allowed.is_empty() {
        return Problem::not_found(not_found_detail(&request)).error_response();
    }
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = Problem::of_status(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} takes {allow}, not {}", request.path(), request.method()),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_takes_the_methods_the_document_gives_it_and_nothing_else_is_known() {
        let known = KnownPaths::of(&serde_json::json!({"paths": {
            "/api/v1/teams": {"get": {}, "post": {}},
            "/api/v1/teams/{id}": {"get": {}},
        }}));
        assert_eq!(known.allowed("/api/v1/teams"), [Method::GET, Method::POST]);
        assert_eq!(known.allowed("/api/v1/teams/5d2c"), [Method::GET]);
        assert_eq!(known.allowed("/docs/index.html"), [Method::GET]);
        assert!(known.allowed("/api/v1/teams/5d2c/fly").is_empty());
        assert!(known.allowed("/nowhere").is_empty());
    }
}
