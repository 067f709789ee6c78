//! The live feed over HTTP against the real server: updates carry the log
//! position as their id, a reconnect with `Last-Event-ID` resumes with no gap and
//! no duplicate (from memory or from the log), filters hold, and a thousand
//! subscribers are served at once.

mod support;

use std::time::Duration;

use ercs_server::cli::ViewArgs;
use futures::StreamExt;
use serde_json::{Value, json};
use support::TestServer;

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: Option<u64>,
    event: String,
    data: Value,
}

struct Stream {
    response: reqwest::Response,
    /// Bytes, not text: a chunk may end inside a character.
    buffer: Vec<u8>,
}

impl Stream {
    async fn open(server: &TestServer, query: &str, last_event_id: Option<u64>) -> Self {
        Self::open_with(&server.client, server, query, last_event_id).await
    }

    /// As the dashboard whose token `client` sends.
    async fn open_with(
        client: &reqwest::Client,
        server: &TestServer,
        query: &str,
        last_event_id: Option<u64>,
    ) -> Self {
        let mut request = client
            .get(server.url(&format!("/api/v1/feed{query}")))
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or `None` if none comes within `within`.
    async fn next(&mut self, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(std::str::from_utf8(&block).unwrap()) {
                    return Some(event);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// Update ids until `last`, or panics if it does not come in time.
    async fn ids_through(&mut self, last: u64) -> Vec<u64> {
        let mut ids = Vec::new();
        while ids.last() != Some(&last) {
            let event = self
                .next(Duration::from_secs(60))
                .await
                .expect("the feed stalled");
            ids.extend(event.id);
        }
        ids
    }

    /// Updates until none comes for a moment.
    async fn drain(&mut self) -> Vec<Sse> {
        let mut events = Vec::new();
        while let Some(event) = self.next(Duration::from_millis(700)).await {
            events.push(event);
        }
        events
    }
}

fn parse(block: &str) -> Option<Sse> {
    let (mut id, mut event, mut data) = (None, None, None);
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.parse().ok();
        } else if let Some(v) = line.strip_prefix("event: ") {
            event = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("data: ") {
            data = serde_json::from_str(v).ok();
        }
    }
    Some(Sse {
        id,
        event: event?,
        data: data?,
    })
}

async fn standby_teams(server: &TestServer, query: &str) -> Vec<String> {
    let (_, page) = server
        .get(&server.url(&format!("/api/v1/teams?status=standby&limit=20{query}")))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Takes a team out of service; returns the position written.
async fn change(server: &TestServer, team: &str) -> u64 {
    let response = server
        .post(
            &format!("/api/v1/teams/{team}/mark_unavailable"),
            &json!({"reason": "drill"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_change_arrives_as_a_feature_and_its_district_rollup_with_the_log_position_as_id() {
    let server = TestServer::seeded().await;
    let team = standby_teams(&server, "&area=500101").await.remove(0);
    let mut feed = Stream::open(&server, "", None).await;
    let position = change(&server, &team).await;

    let update = feed.next(Duration::from_secs(10)).await.expect("an update");
    assert_eq!(
        (update.event.as_str(), update.id),
        ("update", Some(position))
    );
    let feature = &update.data["feature"];
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["id"], team.as_str());
    assert_eq!(feature["geometry"]["type"], "Point");
    assert_eq!(feature["properties"]["status"], "unavailable");
    assert_eq!(update.data["rollup"]["area"], "500101");
    assert!(
        update.data["rollup"]["availability"]["teams"]["unavailable"]["teams"].as_u64() >= Some(1)
    );
}

/// A map asks for summaries: the same updates, in the same order, each without
/// the resource's state (in GCJ-02 too), and a depot's a fraction of the size.
#[tokio::test]
async fn a_summary_subscriber_gets_every_update_without_the_state() {
    let server = TestServer::seeded().await;
    let mut full = Stream::open(&server, "", None).await;
    let mut summary = Stream::open(&server, "?detail=summary", None).await;
    let mut shifted = Stream::open(&server, "?detail=summary&crs=gcj02", None).await;
    let (_, depots) = server.get(&server.url("/api/v1/depots?limit=1")).await;
    let depot = depots["items"][0]["id"].as_str().unwrap().to_owned();
    support::receive_n95(&server, &depot, "FEED-SUMMARY-1", 10).await;
    let team = standby_teams(&server, "&area=500101").await.remove(0);
    let last = change(&server, &team).await;

    let mut got = Vec::new();
    for stream in [&mut full, &mut summary, &mut shifted] {
        let mut updates = Vec::new();
        while updates.last().map(|u: &Sse| u.id) != Some(Some(last)) {
            updates.push(
                stream
                    .next(Duration::from_secs(10))
                    .await
                    .expect("an update"),
            );
        }
        got.push(updates);
    }
    let [full, summary, shifted] = <[Vec<Sse>; 3]>::try_from(got).unwrap();
    assert_eq!(full.len(), 2);
    for ((full, summary), shifted) in full.iter().zip(&summary).zip(&shifted) {
        assert_eq!(full.id, summary.id);
        assert!(full.data["feature"]["properties"]["state"].is_object());
        let mut stateless = full.data.clone();
        stateless["feature"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("state");
        assert_eq!(summary.data, stateless);
        let mut unshifted = shifted.data.clone();
        unshifted["feature"]["geometry"] = summary.data["feature"]["geometry"].clone();
        assert_eq!(unshifted, summary.data);
        let lon = |u: &Sse| {
            u.data["feature"]["geometry"]["coordinates"][0]
                .as_f64()
                .unwrap()
        };
        assert!(
            (lon(shifted) - lon(summary)).abs() > 1e-4,
            "GCJ-02 is shifted"
        );
    }
    // The depot's lots are in its state: its summary is under a third of it.
    let size = |u: &Sse| u.data.to_string().len();
    assert!(
        size(&summary[0]) * 3 < size(&full[0]),
        "{} of {}",
        size(&summary[0]),
        size(&full[0])
    );
}

#[tokio::test]
async fn reconnecting_with_last_event_id_resumes_with_no_gap_and_no_duplicate() {
    let server = TestServer::seeded().await;
    let teams = standby_teams(&server, "").await;
    let mut feed = Stream::open(&server, "", None).await;
    let first = change(&server, &teams[0]).await;
    let seen = feed.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(seen.id, Some(first));
    drop(feed); // the connection drops

    let mut missed = Vec::new();
    for team in &teams[1..4] {
        missed.push(change(&server, team).await);
    }
    let mut resumed = Stream::open(&server, "", Some(first)).await;
    let live = change(&server, &teams[4]).await;
    let ids: Vec<u64> = resumed.drain().await.iter().filter_map(|e| e.id).collect();
    missed.push(live);
    assert_eq!(ids, missed);
}

#[tokio::test]
async fn a_resume_from_before_the_feed_started_is_served_from_the_log() {
    let server = TestServer::seeded().await;
    // The seed was written before this server started, so no update of it was
    // ever held in memory: the last five come from the log.
    let head = server.head().await;
    let mut resumed = Stream::open(&server, "", Some(head - 5)).await;
    // Up to the head, however slowly a loaded machine catches up.
    let ids = resumed.ids_through(head).await;
    assert_eq!(ids, ((head - 4)..=head).collect::<Vec<_>>());
    let team = standby_teams(&server, "").await.remove(0);
    let live = change(&server, &team).await;
    assert_eq!(
        resumed.next(Duration::from_secs(10)).await.unwrap().id,
        Some(live)
    );
}

#[tokio::test]
async fn resumes_beyond_the_catch_up_slots_wait_their_turn_then_go_live_with_no_gap_and_no_duplicate()
 {
    let server = TestServer::seeded_with(ViewArgs {
        feed_catch_ups: 1,
        ..ViewArgs::default()
    })
    .await;
    let head = server.head().await;
    let teams = standby_teams(&server, "").await;
    // Three resumes from before this server started, one catch-up slot.
    let from = head - 300;
    let mut resumes = Vec::new();
    for _ in 0..3 {
        resumes.push(Stream::open(&server, "", Some(from)).await);
    }
    // Writes while they catch up land on either side of each hand-over.
    let mut written = Vec::new();
    for team in &teams[..4] {
        written.push(change(&server, team).await);
    }
    let expected: Vec<u64> = (from + 1..=head).chain(written.iter().copied()).collect();
    for resume in &mut resumes {
        let ids = resume.ids_through(*written.last().unwrap()).await;
        assert_eq!(ids, expected, "a gap or a duplicate");
    }
}

#[tokio::test]
async fn a_resume_beyond_the_catch_up_queue_is_a_503_with_retry_after() {
    let server = TestServer::seeded_with(ViewArgs {
        feed_catch_ups: 1,
        feed_catch_up_queue: 1,
        ..ViewArgs::default()
    })
    .await;
    // The whole seeded log to render: this one holds the only place for a while.
    let _first = Stream::open(&server, "", Some(0)).await;
    let response = server
        .client
        .get(server.url("/api/v1/feed"))
        .header("Last-Event-ID", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // A client that needs nothing from the log is never refused.
    let head = server.head().await;
    Stream::open(&server, "", Some(head)).await;
}

#[tokio::test]
async fn after_a_restart_from_a_snapshot_a_resume_from_before_it_is_served_from_the_log() {
    use ercs_eventlog::EventLog;
    use ercs_projections::{OneNetwork, Projector, ProjectorOptions};

    let dir = support::seeded_copy();
    {
        // A previous run of the service: its view saved at the head.
        let log: std::sync::Arc<dyn EventLog> =
            std::sync::Arc::new(ercs_server::startup::open_log(dir.path()).unwrap());
        let options = ProjectorOptions {
            snapshot_dir: Some(dir.path().to_owned()),
            ..ProjectorOptions::default()
        };
        let view = Projector::<OneNetwork>::start(std::sync::Arc::clone(&log), options);
        let head = log.head().await.unwrap();
        view.wait_for(head, Duration::from_secs(60)).await.unwrap();
        view.stop().await.unwrap();
    }
    let server = TestServer::over(dir).await;
    let head = server.head().await;
    let mut resumed = Stream::open(&server, "", Some(head - 3)).await;
    let ids = resumed.ids_through(head).await;
    assert_eq!(ids, ((head - 2)..=head).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_subscription_gets_only_the_collections_and_areas_it_asked_for() {
    let server = TestServer::seeded().await;
    let wanzhou = standby_teams(&server, "&area=500101").await.remove(0);
    let yuzhong = standby_teams(&server, "&area=500103").await.remove(0);
    let mut teams_in_wanzhou = Stream::open(&server, "?collection=teams&area=500101", None).await;
    let mut depots = Stream::open(&server, "?collection=depots", None).await;

    change(&server, &yuzhong).await;
    let wanted = change(&server, &wanzhou).await;

    let ids: Vec<u64> = teams_in_wanzhou
        .drain()
        .await
        .iter()
        .filter_map(|e| e.id)
        .collect();
    assert_eq!(ids, vec![wanted]);
    assert!(depots.drain().await.is_empty());
}

#[tokio::test]
async fn a_thousand_subscribers_all_receive_the_same_update() {
    let server = TestServer::seeded().await;
    let mut streams = Vec::new();
    // A thousand screens, each with its own token (one token holds at most 16).
    for screen in 0..1000 {
        let token = ercs_server::auth::development::token_for(
            &format!("screen-{screen}"),
            "区县看板",
            ercs_server::auth::Role::Viewer,
            "500000",
        );
        let client = reqwest::Client::builder()
            .default_headers(
                [(
                    reqwest::header::AUTHORIZATION,
                    format!("Bearer {token}").parse().unwrap(),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .unwrap();
        streams.push(Stream::open_with(&client, &server, "?collection=teams", None).await);
    }
    let team = standby_teams(&server, "").await.remove(0);
    let position = change(&server, &team).await;
    let received = futures::future::join_all(streams.iter_mut().map(|stream| async {
        stream
            .next(Duration::from_secs(30))
            .await
            .and_then(|e| e.id)
    }))
    .await;
    assert!(
        received.iter().all(|id| *id == Some(position)),
        "some subscribers missed it"
    );
}

#[tokio::test]
async fn a_bad_feed_parameter_is_refused_naming_it() {
    let server = TestServer::seeded().await;
    // Named with its rule: the feed reads `detail`, it is not an unknown parameter.
    let (status, problem) = server.get(&server.url("/api/v1/feed?detail=all")).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("detail")));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("full or summary"),
        "{problem}"
    );
    for (query, field) in [
        ("?collection=ships", "collection"),
        ("?bbox=1", "bbox"),
        ("?zoom=3", "zoom"),
    ] {
        let (status, problem) = server
            .get(&server.url(&format!("/api/v1/feed{query}")))
            .await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{query}"
        );
    }
}

/// The hub itself, without HTTP: one subscriber never reads while another does.
#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_resync_and_holds_nobody_back() {
    use std::sync::Arc;

    use ercs_commands::{Aggregates, Expect, Metadata};
    use ercs_domain::decider::{CommandContext, Stamped};
    use ercs_domain::team::Team;
    use ercs_domain::values::Actor;
    use ercs_eventlog::{Direction, EventLog, Filter, ReadFrom};
    use ercs_projections::one_network::ResourceKind;
    use ercs_projections::{History, HistoryOptions, OneNetwork, Projection};
    use ercs_server::examples::actions;
    use ercs_server::feed::{CatchUp, Feed, Subscription};
    use ercs_server::routes::commands::{Commanded, command_of};

    // One real team registration in a log of its own, applied to a view.
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> =
        Arc::new(ercs_eventlog::SqliteEventLog::open(dir.path().join("events.db")).unwrap());
    let register = &actions(ResourceKind::Teams)[0];
    let body = register.example.as_ref().unwrap().to_string();
    let command = command_of::<Team>("register", body.as_bytes()).unwrap();
    let id = Team::created_id(&command).unwrap();
    let actor = Actor::parse("test").unwrap();
    Aggregates::new(Arc::clone(&log))
        .execute::<Team>(
            &id,
            Expect::Latest,
            Stamped {
                context: CommandContext::new(actor, chrono::Utc::now()),
                command,
            },
            &Metadata::new("test"),
        )
        .await
        .unwrap();
    let event = log
        .read_all(ReadFrom::Start, Direction::Forwards, &Filter::all(), 1)
        .await
        .unwrap()
        .remove(0);
    let mut view = OneNetwork::default();
    view.apply(&event);

    let areas = Arc::new(
        ercs_seed::chongqing::geography()
            .unwrap()
            .hierarchy()
            .unwrap(),
    );
    let history = Arc::new(History::new(Arc::clone(&log), HistoryOptions::default()));
    let runtime = tokio::runtime::Handle::current();
    let feed = Feed::new(
        areas,
        CatchUp::new(Arc::clone(&log), history, runtime, 1, 1),
    );
    let mut slow = feed.subscribe(None, Subscription::default()).unwrap();
    let mut reader = feed.subscribe(None, Subscription::default()).unwrap();
    const UPDATES: usize = 3000;
    let reading = tokio::spawn(async move {
        let mut updates = 0;
        while let Some(frame) = reader.next().await {
            if frame.starts_with(b"id: ") {
                updates += 1;
                if updates == UPDATES {
                    break;
                }
            }
        }
        updates
    });
    for _ in 0..UPDATES {
        feed.publish(&view, &event, true);
        tokio::task::yield_now().await;
    }
    let read = tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, UPDATES, "the reading subscriber was held back");
    let mut resynced = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_millis(500), slow.next()).await
    {
        if frame.starts_with(b"event: resync") {
            resynced = true;
            break;
        }
    }
    assert!(resynced, "the slow subscriber was never told to resync");
}

#[tokio::test]
async fn an_incident_feed_in_gcj02_carries_the_incident_and_what_is_committed_to_it() {
    let server = TestServer::seeded().await;
    let incident = support::INCIDENT;
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({
                "incident_id": incident, "kind": "mass_casualty", "level": "III",
                "title": "万州区长江大桥交通事故", "affected_areas": ["500101"],
                "location": {"lon": 108.4057, "lat": 30.8075}
            }),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let declared_at = declared.json::<Value>().await.unwrap()["position"].as_u64();
    let mut feed = Stream::open(
        &server,
        &format!("?incident={incident}&crs=gcj02"),
        declared_at,
    )
    .await;
    let mut teams = standby_teams(&server, "&area=500101").await;
    let (committed, other) = (teams.remove(0), teams.remove(0));
    change(&server, &other).await;
    let mobilised = server
        .post(
            &format!("/api/v1/teams/{committed}/mobilise"),
            &json!({"incident": incident}),
        )
        .await;
    assert_eq!(mobilised.status(), 200);
    let at = mobilised.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap();
    let raised = server
        .post(
            &format!("/api/v1/incidents/{incident}/raise_level"),
            &json!({"level": "II", "reason": "伤员增多"}),
        )
        .await;
    assert_eq!(raised.status(), 200);

    let updates = feed.drain().await;
    let ids: Vec<&str> = updates
        .iter()
        .map(|u| u.data["feature"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [committed.as_str(), incident],
        "only the incident and its team"
    );
    assert_eq!(updates[0].id, Some(at));
    assert_eq!(updates[0].data["incidents"], json!([incident]));
    assert_eq!(updates[1].data["event_type"], "ResponseLevelRaised");
    let [lon, lat] = [0, 1].map(|i| {
        updates[1].data["feature"]["geometry"]["coordinates"][i]
            .as_f64()
            .unwrap()
    });
    let [glon, glat] = ercs_server::gis::Crs::Gcj02.convert(108.4057, 30.8075);
    assert!(
        (lon - glon).abs() < 1e-6 && (lat - glat).abs() < 1e-6,
        "GCJ-02, not WGS-84: {lon},{lat} vs {glon},{glat}"
    );
}

#[tokio::test]
async fn after_a_restart_last_event_id_replays_what_the_client_missed() {
    let server = TestServer::seeded().await;
    let head = server.head().await;
    let teams = standby_teams(&server, "&area=500101").await;
    let mut first = Stream::open(&server, "?collection=teams", Some(head)).await;
    let seen = change(&server, &teams[0]).await;
    assert_eq!(first.ids_through(seen).await, [seen]);
    drop(first);
    // While the client is away the service changes twice more, then restarts.
    let missed = [
        change(&server, &teams[1]).await,
        change(&server, &teams[2]).await,
    ];
    let restarted = TestServer::over(support::log_copy(server.dir.path())).await;
    drop(server);
    let mut second = Stream::open(&restarted, "?collection=teams", Some(seen)).await;
    let ids = second.ids_through(missed[1]).await;
    assert_eq!(
        ids, missed,
        "exactly what it missed, from the restarted service's log"
    );
    assert!(
        second.drain().await.is_empty(),
        "and nothing more: no duplicate"
    );
}
