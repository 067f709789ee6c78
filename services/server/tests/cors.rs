//! Browsers on another origin: preflights answered without a token, the
//! headers a dashboard sends allowed, the ones it reads exposed, and origins
//! nobody configured refused.

mod support;

use ercs_server::auth::{AuthArgs, Mode, Role, development};
use reqwest::Method;
use support::TestServer;

const DASHBOARD: &str = "http://localhost:5173";

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, server.url("/api/v1/teams"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,if-match,idempotency-key,last-event-id",
        )
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_localhost_dashboard_is_let_in_during_development() {
    let server = TestServer::seeded().await;
    let before = server.events_in_log();
    let answer = preflight(&server, DASHBOARD).await;
    assert!(answer.status().is_success(), "{answer:?}");
    assert_eq!(header(&answer, "access-control-allow-origin"), DASHBOARD);
    let allowed = header(&answer, "access-control-allow-headers");
    for wanted in [
        "authorization",
        "if-match",
        "idempotency-key",
        "last-event-id",
    ] {
        assert!(allowed.contains(wanted), "{wanted} not in {allowed}");
    }
    assert_eq!(server.events_in_log(), before, "a preflight appended");

    let read = reqwest::Client::new()
        .get(server.url("/api/v1/teams?limit=1"))
        .header("Origin", DASHBOARD)
        .bearer_auth(development::token(Role::Viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(header(&read, "access-control-allow-origin"), DASHBOARD);
    let exposed = header(&read, "access-control-expose-headers");
    assert!(
        exposed.contains("etag") && exposed.contains("location"),
        "{exposed}"
    );

    // A 401 is readable by the page too, so it can ask the user to sign in.
    let refused = reqwest::Client::new()
        .get(server.url("/api/v1/teams"))
        .header("Origin", DASHBOARD)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(header(&refused, "access-control-allow-origin"), DASHBOARD);
}

#[tokio::test]
async fn another_site_gets_no_cors_grant() {
    let server = TestServer::seeded().await;
    let answer = preflight(&server, "https://evil.example").await;
    assert_eq!(header(&answer, "access-control-allow-origin"), "");
}

#[tokio::test]
async fn production_allows_only_the_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "a production secret of at least thirty-two bytes").unwrap();
    let auth = AuthArgs {
        mode: Mode::Production,
        jwt_issuer: Some("https://iam.example".into()),
        jwt_hs256_secret_file: Some(secret),
        behind_tls_proxy: true,
        cors_origins: vec!["https://gis.wsjkw.cq.example".into()],
        ..AuthArgs::development()
    };
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "gis", "role": "viewer", "jurisdiction": "500000",
            "iss": "https://iam.example", "aud": "ercs",
            "exp": chrono::Utc::now().timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(
            b"a production secret of at least thirty-two bytes",
        )
        .unwrap(),
    )
    .unwrap();
    let server = TestServer::seeded_with_auth(auth, &token).await;
    let local = preflight(&server, DASHBOARD).await;
    assert_eq!(header(&local, "access-control-allow-origin"), "");
    let configured = preflight(&server, "https://gis.wsjkw.cq.example").await;
    assert_eq!(
        header(&configured, "access-control-allow-origin"),
        "https://gis.wsjkw.cq.example"
    );
}
