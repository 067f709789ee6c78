//! The OpenAPI document: committed, current, complete, with examples the service
//! accepts, and browsable offline at `/docs`.
//!
//! To refresh the committed copy after changing the API:
//! `ERCS_UPDATE_OPENAPI=1 cargo test -p ercs-server --test openapi`.

mod support;

use std::path::PathBuf;

use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::incident::Incident;
use ercs_domain::supply::CatalogueItem;
use ercs_domain::supply::depot::Depot;
use ercs_domain::team::Team;
use ercs_projections::one_network::ResourceKind;
use ercs_server::examples::actions;
use ercs_server::openapi::{document_json, domain_commands};
use ercs_server::routes::commands::{Commanded, command_of};
use serde_json::Value;
use support::TestServer;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}

fn generated() -> String {
    serde_json::to_string_pretty(&document_json()).unwrap() + "\n"
}

#[test]
fn the_committed_openapi_json_is_what_the_code_generates() {
    let path = committed_path();
    if std::env::var_os("ERCS_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated()).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated(),
        "openapi/openapi.json is stale; regenerate it with \
         ERCS_UPDATE_OPENAPI=1 cargo test -p ercs-server --test openapi"
    );
}

#[test]
fn every_domain_command_has_an_endpoint_except_the_process_steps() {
    for kind in ResourceKind::ALL {
        let mut offered: Vec<String> = actions(kind).iter().map(|a| a.name.to_owned()).collect();
        let mut wanted = domain_commands(kind);
        if kind == ResourceKind::Depots {
            // Sent only by the transfer process, from the dispatch event.
            wanted.retain(|c| {
                !["receive_transfer", "return_transfer", "complete_transfer"].contains(&c.as_str())
            });
        }
        // Sent only by a superseding plan's approval, which hands a hold over.
        wanted.retain(|c| c != "move_reservation");
        offered.sort();
        wanted.sort();
        assert_eq!(offered, wanted, "{kind}");
    }
}

fn check_examples<D: Commanded>()
where
    D::Event: ercs_domain::event::DomainEvent,
{
    for action in actions(D::KIND) {
        let body = action
            .example
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default();
        if let Err(problem) = command_of::<D>(action.name, body.as_bytes()) {
            panic!(
                "the example of {} {} is refused: {problem:?}",
                D::KIND,
                action.name
            );
        }
    }
}

#[test]
fn every_documented_example_is_a_command_the_service_accepts() {
    check_examples::<Team>();
    check_examples::<Facility>();
    check_examples::<Depot>();
    check_examples::<ConvertibleFacility>();
    check_examples::<Incident>();
    check_examples::<CatalogueItem>();
}

#[test]
fn every_path_and_schema_carries_an_example_or_is_built_from_ones_that_do() {
    let document = document_json();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(content) = operation.pointer("/requestBody/content/application~1json") {
                assert!(
                    !content["example"].is_null(),
                    "{method} {path} has no example"
                );
            }
            assert!(
                operation["summary"].is_string(),
                "{method} {path} has no summary"
            );
        }
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        let leaf = schema.get("properties").is_none()
            && schema.get("oneOf").is_none()
            && schema.get("anyOf").is_none()
            && schema.get("allOf").is_none()
            && schema.get("$ref").is_none()
            && schema.get("items").is_none()
            && schema.get("prefixItems").is_none();
        if leaf && schema.get("enum").is_none() {
            assert!(
                schema.get("example").is_some() || schema.get("examples").is_some(),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn the_served_document_and_the_docs_ui_work_offline() {
    let server = TestServer::empty().await;
    let (status, served) = server.get(&server.url("/api/v1/openapi.json")).await;
    assert_eq!(status, 200);
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    assert_eq!(
        served, committed,
        "the served document differs from openapi/openapi.json"
    );

    let page = server
        .client
        .get(server.url("/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "not the Swagger UI page");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(html.contains(asset), "{asset} not referenced");
        let response = server
            .client
            .get(server.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{asset} is not served by the service itself"
        );
    }
    assert!(
        !html.contains("https://"),
        "the docs page loads something from the network"
    );
}
