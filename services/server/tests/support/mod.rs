//! The real server, in-process, on a random port, over a Chongqing-seeded log.
//!
//! The seed is loaded once per test binary into a template directory; each
//! server gets its own copy of it, so tests never share writable state.

#![allow(dead_code)]

pub mod served;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ercs_eventlog::EventLog;
use ercs_server::auth::{AuthArgs, Role, development};
use ercs_server::cli::{DataDir, OpsArgs, ServeArgs, ViewArgs};
use ercs_server::seeding::{self, SeedName};
use ercs_server::startup::{Application, open_log};
use serde_json::{Value, json};

/// Opens a server's log in its data directory (run on the server's runtime).
pub type OpenLog = Box<dyn FnOnce(&Path) -> Arc<dyn EventLog> + Send>;

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

/// A template data directory with Chongqing seeded, made once.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let data_dir = dir.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let log: Arc<dyn EventLog> = Arc::new(open_log(&data_dir).unwrap());
                seeding::load(log, SeedName::Chongqing, &indicatif::ProgressBar::hidden())
                    .await
                    .unwrap();
            })
        })
        .join()
        .unwrap();
        dir
    })
}

/// A copy of the seeded log (the log only: no snapshot, no other file).
pub fn seeded_copy() -> tempfile::TempDir {
    log_copy(template())
}

/// A copy of the log in `from` (its database and write-ahead files), for a
/// second service to start over as a restart would.
pub fn log_copy(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("events.db") {
            std::fs::copy(entry.path(), dir.path().join(name)).unwrap();
        }
    }
    dir
}

impl TestServer {
    /// A server over its own copy of the seeded log, its view caught up.
    pub async fn seeded() -> Self {
        Self::seeded_with(ViewArgs::default()).await
    }

    /// Like [`seeded`](Self::seeded), tuned.
    pub async fn seeded_with(view: ViewArgs) -> Self {
        let server = Self::starting(seeded_copy(), view);
        server.caught_up().await;
        server
    }

    /// A server over its own copy of the seeded log, not waiting for anything:
    /// its view replays the whole log (there is no snapshot yet).
    pub fn starting_seeded() -> Self {
        Self::starting(seeded_copy(), ViewArgs::default())
    }

    /// A server over `dir` as it is, its view caught up.
    pub async fn over(dir: tempfile::TempDir) -> Self {
        let server = Self::starting(dir, ViewArgs::default());
        server.caught_up().await;
        server
    }

    /// A server over an empty log.
    pub async fn empty() -> Self {
        let server = Self::starting(tempfile::tempdir().unwrap(), ViewArgs::default());
        server.caught_up().await;
        server
    }

    /// A server over its own copy of the seeded log, checking tokens as `auth`
    /// says; its client sends `token`.
    pub async fn seeded_with_auth(auth: AuthArgs, token: &str) -> Self {
        let mut server = Self::starting_with(seeded_copy(), ViewArgs::default(), auth);
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {token}").parse().unwrap();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        server.client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        server.caught_up().await;
        server
    }

    fn starting(dir: tempfile::TempDir, view: ViewArgs) -> Self {
        Self::starting_with(dir, view, AuthArgs::development())
    }

    fn starting_with(dir: tempfile::TempDir, view: ViewArgs, auth: AuthArgs) -> Self {
        let open: OpenLog = Box::new(|dir| Arc::new(open_log(dir).unwrap()));
        Self::launch(dir, view, auth, open, OpsArgs::default())
    }

    /// A server over the log `open` makes of the data directory `dir` (the
    /// seeded copy's log, say, wrapped), tuned by `ops`, its view caught up.
    pub async fn on_log(dir: tempfile::TempDir, open: OpenLog, ops: OpsArgs) -> Self {
        let server = Self::launch(dir, ViewArgs::default(), AuthArgs::development(), open, ops);
        server.caught_up().await;
        server
    }

    fn launch(
        dir: tempfile::TempDir,
        view: ViewArgs,
        auth: AuthArgs,
        open: OpenLog,
        ops: OpsArgs,
    ) -> Self {
        let data_dir = dir.path().to_owned();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let log = open(&data_dir);
                let args = ServeArgs {
                    listen: "127.0.0.1:0".parse().unwrap(),
                    data: DataDir::at(data_dir),
                    seed: None,
                    view,
                    auth,
                    ops,
                };
                let app = Application::build_on(&args, log).unwrap();
                sender.send(app.addr()).unwrap();
                let _ = app.run_until_stopped().await;
            })
        });
        let addr = receiver.recv().unwrap();
        Self {
            base: format!("http://{addr}"),
            addr,
            dir,
            client: reqwest::Client::builder()
                .default_headers(bearer(Role::Admin))
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many events the log holds, read from its file (not from the service).
    pub fn events_in_log(&self) -> u64 {
        let count: i64 = self
            .events_db()
            .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
            .unwrap();
        count as u64
    }

    /// The log's head, from `/readyz` once the service is ready.
    pub async fn head(&self) -> u64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let (status, body) = self.get(&self.url("/readyz")).await;
            if status == 200 {
                return body["log_position"].as_u64().unwrap();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never ready: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the view has read the whole log.
    pub async fn caught_up(&self) {
        let head = self.head().await;
        let (status, _) = self
            .get(&self.url(&format!("/api/v1/network?min_position={head}")))
            .await;
        assert_eq!(status, 200, "the view did not catch up");
    }

    pub async fn get(&self, url: &str) -> (u16, Value) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// `Authorization: Bearer` with the development token of `role`: the tests'
/// client is the development admin unless a test says otherwise.
pub fn bearer(role: Role) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {}", development::token(role));
    headers.insert(reqwest::header::AUTHORIZATION, value.parse().unwrap());
    headers
}

/// An API token for a viewer over the whole city, created over HTTP at `base`
/// by the development admin: the token and its id.
pub async fn viewer_api_token(base: &str) -> (String, String) {
    let created = reqwest::Client::new()
        .post(format!("{base}/api/v1/tokens"))
        .headers(bearer(Role::Admin))
        .json(
            &serde_json::json!({"subject": "wall-api", "name": "指挥大厅大屏（接口令牌）",
                                  "role": "viewer", "jurisdiction": "500000"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    (
        token,
        created["record"]["token_id"].as_str().unwrap().to_owned(),
    )
}

/// A stream's text from now until it ends; panics after `within`.
pub async fn to_the_end(response: &mut reqwest::Response, within: Duration) -> String {
    let mut text = String::new();
    tokio::time::timeout(within, async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the stream did not end; it sent: {text}"));
    text
}

/// The `type` slug of a problem+json body.
pub fn problem_type(body: &Value) -> &str {
    body["type"]
        .as_str()
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or("")
}

impl TestServer {
    /// The server's event log, read-only, to count what was appended.
    pub fn events_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.dir.path().join("events.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// A second, writing connection to the server's log, to make its writes fail.
    pub fn events_db_writable(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.dir.path().join("events.db")).unwrap();
        db.busy_timeout(std::time::Duration::ZERO).unwrap();
        db
    }

    /// How many events in the log satisfy the SQL condition `condition` on the
    /// `events` table, with `?1` bound to `value`.
    pub fn count_events(&self, condition: &str, value: &str) -> u64 {
        self.events_db()
            .query_row(
                &format!("SELECT count(*) FROM events WHERE {condition}"),
                [value],
                |row| row.get::<_, i64>(0),
            )
            .unwrap() as u64
    }

    /// The event types of one transfer (every event whose data names it), in log order.
    pub fn transfer_events(&self, transfer: &str) -> Vec<String> {
        let db = self.events_db();
        let mut query = db
            .prepare("SELECT event_type FROM events WHERE json_extract(data, '$.transfer') = ?1 ORDER BY position")
            .unwrap();
        query
            .query_map([transfer], |row| row.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A POST of `body` with `Idempotency-Key: key`.
    pub async fn post_keyed(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// Registers a district depot with no stock, at `[lon, lat]` in `area`.
pub async fn register_depot(
    server: &TestServer,
    id: &str,
    name: &str,
    area: &str,
    [lon, lat]: [f64; 2],
) {
    let registered = server
        .post(
            "/api/v1/depots",
            &json!({
                "depot_id": id, "name": name, "tier": "district",
                "area": area, "location": {"lon": lon, "lat": lat}
            }),
        )
        .await;
    assert_eq!(registered.status(), 201);
}

/// Receives `quantity` N95 into `depot` as lot `lot` (expiring 2031-01-01).
pub async fn receive_n95(server: &TestServer, depot: &str, lot: &str, quantity: u32) {
    let received = server
        .post(
            &format!("/api/v1/depots/{depot}/receive_lot"),
            &json!({"item": "N95", "lot_number": lot, "quantity": quantity,
                    "expiry": "2031-01-01T00:00:00Z", "reason": "捐赠"}),
        )
        .await;
    assert_eq!(received.status(), 200);
}

/// The problem of a refused request, once its status, `type` slug and `field`
/// are the ones given.
pub async fn refused(response: reqwest::Response, status: u16, slug: &str, field: &str) -> Value {
    let got = response.status().as_u16();
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        (got, problem_type(&problem), problem["field"].as_str()),
        (status, slug, Some(field)),
        "{problem}"
    );
    problem
}

/// The incident the plan tests declare.
pub const INCIDENT: &str = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";

/// Declares a 万州 incident needing isolation beds, N95 masks and two rescue teams.
pub async fn incident_with_demand(server: &TestServer) {
    let declare = server
        .post(
            "/api/v1/incidents",
            &json!({
                "incident_id": INCIDENT, "kind": "infectious_disease", "level": "III",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            }),
        )
        .await;
    assert_eq!(declare.status(), 201);
    for (command, body) in [
        (
            "record_bed_demand",
            json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 30}),
        ),
        (
            "record_supply_demand",
            json!({"item": "N95", "area": "500101", "quantity": 2000}),
        ),
        (
            "record_team_demand",
            json!({"kind": "medical_rescue", "teams": 2}),
        ),
    ] {
        let response = server
            .post(&format!("/api/v1/incidents/{INCIDENT}/{command}"), &body)
            .await;
        assert_eq!(response.status(), 200, "{command}");
    }
}

/// Proposes a plan for [`INCIDENT`]'s demand, once the view has caught up.
pub async fn propose(server: &TestServer) -> Value {
    propose_for(server, INCIDENT).await
}

/// Proposes a plan for `incident`'s demand, once the view has caught up.
pub async fn propose_for(server: &TestServer, incident: &str) -> Value {
    let head = server.head().await;
    let response = server
        .client
        .post(server.url(&format!("/api/v1/plans?min_position={head}")))
        .json(&json!({"incident": incident}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// What [`INCIDENT`] holds, from a view that has reached `position`.
pub async fn held_at(server: &TestServer, position: u64) -> Value {
    let (status, held) = server
        .get(&server.url(&format!(
            "/api/v1/incidents/{INCIDENT}/held?min_position={position}"
        )))
        .await;
    assert_eq!(status, 200, "{held}");
    held
}

/// The statuses of [`INCIDENT`]'s plans, oldest first, from a view that has
/// reached `position`.
pub async fn plan_statuses(server: &TestServer, position: u64) -> Vec<String> {
    let (status, listed) = server
        .get(&server.url(&format!(
            "/api/v1/incidents/{INCIDENT}/plans?min_position={position}"
        )))
        .await;
    assert_eq!(status, 200, "{listed}");
    listed["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect()
}

/// The sum of a numeric field over a JSON array of objects.
pub fn sum_of(list: &Value, field: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_u64().unwrap())
        .sum()
}

/// Takes a standby team of 万州 (500101) out of service: its id and the
/// position written.
pub async fn take_a_team_out_of_service(server: &TestServer) -> (String, u64) {
    let (_, page) = server
        .get(&server.url("/api/v1/teams?status=standby&area=500101&limit=1"))
        .await;
    let team = page["items"][0]["id"].as_str().unwrap().to_owned();
    let written = server
        .post(
            &format!("/api/v1/teams/{team}/mark_unavailable"),
            &json!({"reason": "车辆检修"}),
        )
        .await;
    assert_eq!(written.status(), 200);
    let position = written.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap();
    (team, position)
}
