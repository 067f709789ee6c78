//! Browsers' way into the feed and the feed's limits, over real HTTP: a ticket
//! opens one feed connection as the principal that asked for it, once and only
//! within its minute; a token holds at most its cap of feed connections; and a
//! request not answered in time is 503 `request-timeout`, a slow request head 408;
//! and a feed lasts no longer than the token that opened it (or asked its ticket).

mod support;

use std::time::Duration;

use ercs_server::auth::{AuthArgs, Role, development};
use serde_json::{Value, json};
use support::{TestServer, problem_type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn ticket_for(server: &TestServer, token: &str) -> Value {
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/feed/tickets"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

/// The feed opened with `?ticket=` and no `Authorization`, as `EventSource` does.
async fn open_with(server: &TestServer, ticket: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url(ticket["feed"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
}

/// The feed opened with `Authorization: Bearer token`.
async fn open_feed(server: &TestServer, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/api/v1/feed"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The text of the stream up to the first update, or panics after `within`.
async fn first_update(response: &mut reqwest::Response, within: Duration) -> String {
    let mut text = String::new();
    tokio::time::timeout(within, async {
        while !text.contains("event: update") || !text.ends_with("\n\n") {
            let chunk = response.chunk().await.unwrap().expect("the feed ended");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("no update came");
    text
}

#[tokio::test]
async fn a_ticket_opens_the_feed_once_without_a_header_and_the_feed_streams_changes() {
    let server = TestServer::seeded().await;
    let viewer = development::token_for("wall-1", "指挥大厅大屏", Role::Viewer, "500000");
    let ticket = ticket_for(&server, &viewer).await;
    let before = server.head().await;

    let mut feed = open_with(&server, &ticket).await;
    assert_eq!(feed.status(), 200);
    assert_eq!(feed.headers()["content-type"], "text/event-stream");
    let (team, _) = support::take_a_team_out_of_service(&server).await;
    let update = first_update(&mut feed, Duration::from_secs(10)).await;
    assert!(update.contains(&team), "{update}");

    // Used: a second connection with it, as EventSource's own reconnect would
    // make, is refused and told how to go on.
    let again = open_with(&server, &ticket).await;
    assert_eq!(again.status(), 401);
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem_type(&problem), "unauthenticated");
    assert_eq!(problem["field"], "ticket");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("last_event_id"),
        "{problem}"
    );
    // The redemption is recorded with the viewer as its actor; the refused
    // second use appended nothing.
    let redeemed = server.count_events("event_type = ?1", "FeedTicketRedeemed");
    assert_eq!(redeemed, 1);
    let by: String = server
        .events_db()
        .query_row(
            "SELECT json_extract(metadata, '$.authenticated.subject') FROM events \
             WHERE event_type = 'FeedTicketRedeemed'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(by, "wall-1", "the feed is opened as the ticket's principal");
    assert_eq!(
        server.head().await,
        before + 2,
        "redeemed, and the one command"
    );
}

#[tokio::test]
async fn of_two_connections_racing_with_one_ticket_exactly_one_opens() {
    let server = TestServer::seeded().await;
    let viewer = development::token_for("wall-2", "区县看板", Role::Viewer, "500101");
    for _ in 0..5 {
        let ticket = ticket_for(&server, &viewer).await;
        let (a, b) = tokio::join!(open_with(&server, &ticket), open_with(&server, &ticket));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 401]);
    }
    assert_eq!(
        server.count_events("event_type = ?1", "FeedTicketRedeemed"),
        5
    );
}

#[tokio::test]
async fn a_forged_or_malformed_ticket_opens_nothing_and_appends_nothing() {
    let server = TestServer::seeded().await;
    let viewer = development::token_for("wall-3", "看板", Role::Viewer, "500000");
    let ticket = ticket_for(&server, &viewer).await;
    let real = ticket["ticket"].as_str().unwrap();
    // The same id with another secret.
    let forged = format!("{}{}", &real[..real.len() - 4], "0000");
    let before = server.head().await;
    for bad in [
        forged.as_str(),
        "ercs-ticket_nonsense",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        let response = reqwest::Client::new()
            .get(server.url(&format!("/api/v1/feed?ticket={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{bad}");
    }
    assert_eq!(server.head().await, before);
    // The real one still opens its feed.
    assert_eq!(open_with(&server, &ticket).await.status(), 200);
}

#[tokio::test]
async fn an_expired_ticket_opens_nothing() {
    let auth = AuthArgs {
        feed_ticket_seconds: 1,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let viewer = development::token_for("wall-6", "看板", Role::Viewer, "500000");
    let ticket = ticket_for(&server, &viewer).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let before = server.head().await;
    let response = open_with(&server, &ticket).await;
    assert_eq!(response.status(), 401);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("expired"),
        "{problem}"
    );
    assert_eq!(server.head().await, before);
}

#[tokio::test]
async fn a_role_that_may_not_read_the_whole_feed_gets_no_ticket_for_it() {
    let auth = AuthArgs {
        own_jurisdiction_reads: vec![Role::TownshipOperator],
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let township = development::token_for(
        "gst",
        "高笋塘街道操作员",
        Role::TownshipOperator,
        "500101001",
    );
    // Its token may not read the whole network's feed, so it gets no ticket to.
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/feed/tickets"))
        .bearer_auth(&township)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem_type(&problem), "own-jurisdiction-reads-only");
}

#[tokio::test]
async fn a_token_holds_at_most_its_cap_of_feed_connections_and_a_closed_one_frees_a_place() {
    let auth = AuthArgs {
        feed_connections_per_token: 2,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let wall = development::token_for("wall-4", "大屏", Role::Viewer, "500000");
    let first = open_feed(&server, &wall).await;
    let second = open_feed(&server, &wall).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open_feed(&server, &wall).await;
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let problem: Value = third.json().await.unwrap();
    assert_eq!(problem_type(&problem), "too-many-feeds", "{problem}");
    // Another token is not held back by this one's connections.
    let other = development::token_for("wall-5", "大屏", Role::Viewer, "500000");
    let response = open_feed(&server, &other).await;
    assert_eq!(response.status(), 200);

    drop(first);
    // Noticed when the socket closes, at the latest at the next heartbeat.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let response = open_feed(&server, &wall).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed feed connection was never given back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_request_not_answered_in_time_is_503_request_timeout_and_appends_nothing() {
    let auth = AuthArgs {
        // A microsecond, and a plan that takes the planner far longer (the
        // timer is read at millisecond ticks): the request is cut off while
        // the planner works, before anything is recorded. A plan small enough
        // to be solved and appended within a tick would be recorded with its
        // answer lost: the case the problem's detail speaks of.
        request_timeout_seconds: 0.000_001,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let before = server.events_in_log();
    let demands: Vec<Value> = (0..300)
        .map(|n| {
            json!({"id": format!("万州-{n}"),
                   "location": {"lon": 108.2 + f64::from(n % 20) * 0.02, "lat": 30.6 + f64::from(n / 20) * 0.02},
                   "area": {"district": "500101", "city": "500000"}, "priority": "red",
                   "needs": {"bed:negative_flow_isolation": 5, "team:medical_rescue": 1}})
        })
        .collect();
    let response = server
        .post("/api/v1/plans", &json!({"demands": demands}))
        .await;
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503, "{problem}");
    assert_eq!(problem_type(&problem), "request-timeout", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{problem}"
    );
    // The planner's work, left behind, records nothing when it ends.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let last: String = server
        .events_db()
        .query_row(
            "SELECT event_type || ' ' || stream FROM events ORDER BY position DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(server.events_in_log(), before, "appended: {last}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_gets_408_and_is_disconnected() {
    let auth = AuthArgs {
        header_timeout_seconds: 1,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /api/v1/teams HTTP/1.1\r\nHost: ercs\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("the connection was held open")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// The data of the stream's `closed` event, which must be its last.
fn closed_event(text: &str) -> Value {
    let (_, last) = text
        .rsplit_once("event: closed\ndata: ")
        .unwrap_or_else(|| panic!("no closed event in: {text}"));
    let data = last.strip_suffix("\n\n").expect("the stream's last event");
    serde_json::from_str(data).unwrap()
}

#[tokio::test]
async fn a_feed_on_an_api_token_ends_when_the_token_is_revoked_and_so_does_its_tickets() {
    let server = TestServer::seeded().await;
    let admin = development::token(Role::Admin);
    let (token, id) = support::viewer_api_token(&server.url("")).await;

    let mut on_token = open_feed(&server, &token).await;
    assert_eq!(on_token.status(), 200);
    let ticket = ticket_for(&server, &token).await;
    let mut on_ticket = open_with(&server, &ticket).await;
    assert_eq!(on_ticket.status(), 200);
    let viewer = development::token(Role::Viewer);
    let mut unrelated = open_feed(&server, &viewer).await;
    assert_eq!(unrelated.status(), 200);

    let revoked = reqwest::Client::new()
        .post(server.url(&format!("/api/v1/tokens/{id}/revoke")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    // Revoked here, so at once: well within the 15 s a replica's check takes.
    for feed in [&mut on_token, &mut on_ticket] {
        let text = support::to_the_end(feed, Duration::from_secs(5)).await;
        let closed = closed_event(&text);
        assert!(closed["reason"].as_str().unwrap().contains(&id), "{closed}");
        assert!(
            closed["action"].as_str().unwrap().contains("last_event_id"),
            "{closed}"
        );
    }
    let again = open_feed(&server, &token).await;
    assert_eq!(again.status(), 401, "the revoked token opens no new feed");
    // A feed on another credential goes on.
    let (team, _) = support::take_a_team_out_of_service(&server).await;
    let update = first_update(&mut unrelated, Duration::from_secs(10)).await;
    assert!(update.contains(&team), "{update}");
    assert!(!update.contains("event: closed"), "{update}");
}

#[tokio::test]
async fn a_feed_on_a_jwt_ends_when_the_jwt_expires() {
    #[derive(serde::Serialize)]
    struct Claims {
        sub: &'static str,
        name: &'static str,
        role: &'static str,
        jurisdiction: &'static str,
        iss: &'static str,
        aud: &'static str,
        exp: i64,
    }
    let expires = chrono::Utc::now().timestamp() + 3;
    let claims = Claims {
        sub: "wall-2",
        name: "指挥大厅大屏",
        role: "viewer",
        jurisdiction: "500000",
        iss: development::ISSUER,
        aud: development::AUDIENCE,
        exp: expires,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(development::SECRET).unwrap();
    let short = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let no_leeway = AuthArgs {
        jwt_leeway_seconds: 0,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(no_leeway, &development::token(Role::Admin)).await;

    let mut feed = open_feed(&server, &short).await;
    assert_eq!(feed.status(), 200);
    let ticket = ticket_for(&server, &short).await;
    let mut on_ticket = open_with(&server, &ticket).await;
    assert_eq!(on_ticket.status(), 200);
    for feed in [&mut feed, &mut on_ticket] {
        let text = support::to_the_end(feed, Duration::from_secs(10)).await;
        let closed = closed_event(&text);
        assert!(
            closed["reason"].as_str().unwrap().contains("expired"),
            "{closed}"
        );
    }
    assert!(
        chrono::Utc::now().timestamp() >= expires,
        "ended before the token expired"
    );
}
