//! Who may call at all: every kind of bad token is a 401 problem+json that
//! appends nothing; good ones (HS256, RS256, ES256, JWKS, API tokens) pass, and
//! each command records the authenticated actor.

mod support;

use std::path::PathBuf;

use ercs_server::auth::{AuthArgs, Mode, Role, development};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use support::served::ercs;
use support::{TestServer, problem_type};

const ISSUER: &str = "https://iam.wsjkw.cq.example";
const AUDIENCE: &str = "ercs";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a 万州 district dispatcher, valid for an hour.
fn claims() -> Value {
    json!({
        "sub": "wz-duty-01", "name": "万州区卫健委值班员", "role": "district_dispatcher",
        "jurisdiction": "500101", "iss": ISSUER, "aud": AUDIENCE,
        "exp": now() + 3600, "nbf": now() - 10,
    })
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    encode(&Header::new(algorithm), claims, key).unwrap()
}

fn rs256() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("rs256-private.pem")).unwrap()).unwrap()
}

fn es256() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("es256-private.pem")).unwrap()).unwrap()
}

const SECRET: &[u8] = b"a shared secret of at least thirty-two bytes, for HS256";

/// Production mode with an HS256 secret and the RS256 and ES256 public keys.
async fn production(dir: &tempfile::TempDir) -> TestServer {
    let secret = dir.path().join("hs256.secret");
    std::fs::write(&secret, SECRET).unwrap();
    TestServer::seeded_with_auth(
        AuthArgs {
            mode: Mode::Production,
            jwt_issuer: Some(ISSUER.into()),
            jwt_hs256_secret_file: Some(secret),
            jwt_rs256_public_key: Some(fixture("rs256-public.pem")),
            jwt_es256_public_key: Some(fixture("es256-public.pem")),
            behind_tls_proxy: true,
            ..AuthArgs::development()
        },
        &hs256(&claims()),
    )
    .await
}

/// Registers a 万州 team with `token`; the status and body.
async fn register_team(server: &TestServer, token: &str, team: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/teams"))
        .bearer_auth(token)
        .header("ERCS-Actor", "someone-else")
        .json(&json!({
            "team_id": team, "name": "万州区紧急医学救援队（测试）", "kind": "medical_rescue",
            "tier": "district", "home_area": "500101", "headcount": 12,
            "base": {"lon": 108.38, "lat": 30.81}, "capabilities": ["triage"]
        }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
        claims,
    )
}

/// `alg: none`: a header and claims, no signature.
fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        base64_url(br#"{"alg":"none","typ":"JWT"}"#),
        base64_url(claims.to_string().as_bytes())
    )
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn every_bad_token_is_a_401_problem_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = production(&dir).await;
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"not the service's secret, but long enough").unwrap(),
        &claims(),
    );
    let cases = [
        ("expired", hs256(&with(claims(), "exp", json!(now() - 120)))),
        (
            "not yet valid",
            hs256(&with(claims(), "nbf", json!(now() + 120))),
        ),
        ("forged signature", forged),
        (
            "wrong issuer",
            hs256(&with(claims(), "iss", json!("https://elsewhere.example"))),
        ),
        (
            "wrong audience",
            hs256(&with(claims(), "aud", json!("another-service"))),
        ),
        ("alg none", unsigned(&claims())),
        (
            "a development token in production",
            development::token(Role::Admin),
        ),
        (
            "unknown API token",
            format!("ercs_{}_{}", uuid::Uuid::new_v4().simple(), "0".repeat(64)),
        ),
        (
            "an unknown jurisdiction",
            hs256(&with(claims(), "jurisdiction", json!("999999"))),
        ),
    ];
    let before = server.events_in_log();
    for (case, token) in cases {
        let (status, body) =
            register_team(&server, &token, &uuid::Uuid::new_v4().to_string()).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(problem_type(&body), "unauthenticated", "{case}: {body}");
        assert_eq!(body["field"], "Authorization", "{case}");
    }
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/teams"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "missing");
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(server.events_in_log(), before, "a refused request appended");
}

#[tokio::test]
async fn a_token_within_the_clock_leeway_is_still_good() {
    let dir = tempfile::tempdir().unwrap();
    let server = production(&dir).await;
    // 10 s past `exp`: inside the default 30 s leeway.
    let token = hs256(&with(claims(), "exp", json!(now() - 10)));
    let (status, body) = register_team(&server, &token, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn hs256_rs256_and_es256_tokens_are_accepted_and_record_who_acted() {
    let dir = tempfile::tempdir().unwrap();
    let server = production(&dir).await;
    for token in [
        hs256(&claims()),
        sign(Algorithm::RS256, &rs256(), &claims()),
        sign(Algorithm::ES256, &es256(), &claims()),
    ] {
        let team = uuid::Uuid::new_v4().to_string();
        let (status, body) = register_team(&server, &token, &team).await;
        assert_eq!(status, 201, "{body}");
        let metadata: String = server
            .events_db()
            .query_row(
                "SELECT metadata FROM events WHERE stream = ?1",
                [format!("team-{team}")],
                |row| row.get(0),
            )
            .unwrap();
        let metadata: Value = serde_json::from_str(&metadata).unwrap();
        // The token says who acted; the ERCS-Actor header is ignored.
        assert_eq!(metadata["actor"], "万州区卫健委值班员");
        assert_eq!(
            metadata["authenticated"],
            json!({"subject": "wz-duty-01", "name": "万州区卫健委值班员",
                   "role": "district_dispatcher", "jurisdiction": "500101"})
        );
        assert!(
            metadata["request_id"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
    }
}

#[tokio::test]
async fn keys_from_a_jwks_file_are_chosen_by_kid() {
    let dir = tempfile::tempdir().unwrap();
    let mut rsa = Jwk::from_encoding_key(&rs256(), Algorithm::RS256).unwrap();
    rsa.common.key_id = Some("rsa-2026".into());
    let mut ec = Jwk::from_encoding_key(&es256(), Algorithm::ES256).unwrap();
    ec.common.key_id = Some("ec-2026".into());
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_string(&JwkSet {
            keys: vec![rsa, ec],
        })
        .unwrap(),
    )
    .unwrap();
    let server = TestServer::seeded_with_auth(
        AuthArgs {
            mode: Mode::Production,
            jwt_issuer: Some(ISSUER.into()),
            jwt_jwks: Some(jwks),
            behind_tls_proxy: true,
            ..AuthArgs::development()
        },
        &sign(Algorithm::RS256, &rs256(), &claims()),
    )
    .await;
    let header = |alg, kid: &str| Header {
        kid: Some(kid.into()),
        ..Header::new(alg)
    };
    let good = encode(&header(Algorithm::ES256, "ec-2026"), &claims(), &es256()).unwrap();
    let (status, body) = register_team(&server, &good, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 201, "{body}");
    // Signed by the RSA key but naming the EC key's id: no key verifies it.
    let wrong = encode(&header(Algorithm::RS256, "ec-2026"), &claims(), &rs256()).unwrap();
    let (status, _) = register_team(&server, &wrong, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 401);
}

/// `ercs token …` on the data directory (the embedded log is the service's
/// alone while it runs); its standard output.
fn token_cli(args: &[&str], data_dir: &std::path::Path) -> String {
    let output = ercs()
        .arg("token")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A team registration over HTTP to the real binary; its status.
async fn register_with(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/teams"))
        .bearer_auth(token)
        .json(&json!({
            "team_id": uuid::Uuid::new_v4(), "name": "万州区紧急医学救援队（测试）",
            "kind": "medical_rescue", "tier": "district", "home_area": "500101", "headcount": 12,
            "base": {"lon": 108.38, "lat": 30.81}, "capabilities": ["triage"]
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn events_in(data_dir: &std::path::Path) -> i64 {
    rusqlite::Connection::open(data_dir.join("events.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn an_api_token_works_until_it_is_revoked_by_the_cli() {
    let dir = support::seeded_copy();
    let token = token_cli(
        &[
            "create",
            "--subject",
            "wz-his",
            "--name",
            "万州区人民医院HIS",
            "--role",
            "district_dispatcher",
            "--jurisdiction",
            "500101",
        ],
        dir.path(),
    )
    .trim()
    .to_owned();
    assert!(token.starts_with("ercs_"), "{token}");
    let stored: String = rusqlite::Connection::open(dir.path().join("events.db"))
        .unwrap()
        .query_row(
            "SELECT data FROM events WHERE event_type = 'ApiTokenCreated'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        !stored.contains(&token[38..]),
        "the token's secret is in the log"
    );

    let mut served = support::served::serve_on(dir.path(), &[]);
    served.ready().await;
    assert_eq!(register_with(&served.base, &token).await, 201);
    served.terminate();

    let listed = token_cli(&["list"], dir.path());
    assert!(
        listed.contains("万州区人民医院HIS") && listed.contains("active"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().unwrap().to_owned();
    assert!(token_cli(&["revoke", &id], dir.path()).starts_with("revoked"));
    assert!(token_cli(&["list"], dir.path()).contains("revoked"));

    let served = support::served::serve_on(dir.path(), &[]);
    served.ready().await;
    let before = events_in(dir.path());
    assert_eq!(register_with(&served.base, &token).await, 401, "revoked");
    assert_eq!(events_in(dir.path()), before);
}

#[tokio::test]
async fn while_the_service_runs_an_admin_creates_and_revokes_api_tokens_over_http() {
    let dir = support::seeded_copy();
    let served = support::served::serve_on(dir.path(), &[]);
    served.ready().await;
    // The command line cannot open the log the service holds, and says what to do.
    let output = ercs()
        .args(["token", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("POST /api/v1/tokens"), "{said}");

    let client = reqwest::Client::new();
    let create = |token: String, body: Value| {
        client
            .post(format!("{}/api/v1/tokens", served.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let his = json!({"subject": "wz-his", "name": "万州区人民医院HIS",
                     "role": "district_dispatcher", "jurisdiction": "500101"});
    // Only an admin may.
    let before = events_in(dir.path());
    let refused = create(development::token(Role::CityCommander), his.clone())
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem_type(&problem), "admin-only");
    // A bad field is named, and nothing is written.
    let bad = create(
        development::token(Role::Admin),
        json!({"subject": "x", "name": "x", "role": "mayor", "jurisdiction": "500101"}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["field"], "role", "{problem}");
    assert_eq!(events_in(dir.path()), before);

    let created = create(development::token(Role::Admin), his).await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["record"]["token_id"].as_str().unwrap().to_owned();
    assert!(created["record"].get("digest").is_none(), "{created}");
    assert_eq!(register_with(&served.base, &token).await, 201);

    let revoke = || {
        client
            .post(format!("{}/api/v1/tokens/{id}/revoke", served.base))
            .bearer_auth(development::token(Role::Admin))
            .send()
    };
    let revoked = revoke().await.unwrap();
    assert_eq!(revoked.status(), 200);
    let revoked: Value = revoked.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let before = events_in(dir.path());
    assert_eq!(register_with(&served.base, &token).await, 401, "revoked");
    assert_eq!(revoke().await.unwrap().status(), 409, "revoked already");
    assert_eq!(events_in(dir.path()), before);

    // Both changes say which admin made them.
    let actors: Vec<String> = rusqlite::Connection::open(dir.path().join("events.db"))
        .unwrap()
        .prepare(
            "SELECT json_extract(metadata, '$.authenticated.role') FROM events \
             WHERE event_type IN ('ApiTokenCreated', 'ApiTokenRevoked') ORDER BY position",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(actors, ["admin", "admin"]);
}

#[tokio::test]
async fn the_commanding_roles_stay_inside_their_jurisdiction() {
    let server = TestServer::seeded().await;
    let as_ = |role, jurisdiction| development::token_for("t", "测试", role, jurisdiction);
    let team = uuid::Uuid::new_v4().to_string();
    // 渝东北 (a region) covers 万州区.
    let (status, body) =
        register_team(&server, &as_(Role::DistrictDispatcher, "yudongbei"), &team).await;
    assert_eq!(status, 201, "{body}");
    let before = server.events_in_log();
    for (role, jurisdiction, slug) in [
        (Role::DistrictDispatcher, "500102", "outside-jurisdiction"),
        (Role::TownshipOperator, "500101001", "outside-jurisdiction"),
        (Role::Viewer, "500000", "read-only-role"),
        (Role::DrillDirector, "500000", "drill-role-on-live-network"),
    ] {
        let (status, body) = register_team(
            &server,
            &as_(role, jurisdiction),
            &uuid::Uuid::new_v4().to_string(),
        )
        .await;
        assert_eq!(
            (status, problem_type(&body)),
            (403, slug),
            "{role} of {jurisdiction}: {body}"
        );
        let response = reqwest::Client::new()
            .post(server.url(&format!("/api/v1/teams/{team}/mobilise")))
            .bearer_auth(as_(role, jurisdiction))
            .json(&json!({"incident": null}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            403,
            "{role} of {jurisdiction} mobilising a 万州 team"
        );
    }
    // A district dispatcher cannot catalogue for the whole city.
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/items"))
        .bearer_auth(as_(Role::DistrictDispatcher, "500101"))
        .json(&json!({"item": "N95X", "details": {
            "name": "测试口罩", "unit": "只", "category": "protective_equipment", "shelf_life_days": 10
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(server.events_in_log(), before);
}

#[tokio::test]
async fn production_refuses_to_start_without_keys_or_tls_and_development_without_loopback() {
    let data = tempfile::tempdir().unwrap();
    let start = |args: &[&str]| {
        let output = ercs()
            .args(["serve", "--data-dir", data.path().to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} started");
        String::from_utf8(output.stderr).unwrap()
    };
    assert!(start(&["--mode", "production", "--listen", "127.0.0.1:0"]).contains("needs keys"));
    let secret = data.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let no_tls = start(&[
        "--mode",
        "production",
        "--listen",
        "127.0.0.1:0",
        "--jwt-issuer",
        ISSUER,
        "--jwt-hs256-secret-file",
        secret.to_str().unwrap(),
    ]);
    assert!(no_tls.contains("--behind-tls-proxy"), "{no_tls}");
    assert!(start(&["--listen", "0.0.0.0:0"]).contains("loopback only"));
}
