//! Stock on the road: a transfer dispatched with an expected arrival is in
//! transit until its destination signs for it (签收) or refuses it (拒收), and
//! a consignment issued to a township goes the same way. Each ends exactly once,
//! whoever races to end it, and a restart leaves what is on the road on the road.

mod support;

use futures::future::join_all;
use serde_json::{Value, json};
use support::{TestServer, problem_type};

const DESTINATION: &str = "43111111-2222-4333-8444-555555555555";
const KAIZHOU: [f64; 2] = [108.39, 31.16];

/// A seeded depot holding N95, and a new empty one to send them to.
/// Depot `at` signs for and refuses `transfer`, naming `from` as its source:
/// both are `422 unknown-reference` naming `transfer`.
async fn claims_refused(server: &TestServer, at: &str, transfer: &str, from: &str) {
    for (action, body) in [
        (
            "sign_transfer",
            json!({"transfer": transfer, "from": from, "received_by": "冒领人"}),
        ),
        (
            "refuse_transfer",
            json!({"transfer": transfer, "from": from, "reason": "冒领"}),
        ),
    ] {
        let claimed = server
            .post(&format!("/api/v1/depots/{at}/{action}"), &body)
            .await;
        support::refused(claimed, 422, "unknown-reference", "transfer").await;
    }
}

async fn depots(server: &TestServer) -> Value {
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let source = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"]["stock"]["N95"].is_object())
        .expect("a depot with N95")
        .clone();
    support::register_depot(
        server,
        DESTINATION,
        "开州区临时物资储备点",
        "500154",
        KAIZHOU,
    )
    .await;
    source
}

fn due() -> String {
    (chrono::Utc::now() + chrono::TimeDelta::hours(3)).to_rfc3339()
}

/// Dispatches 100 N95 in transit; the answer.
async fn dispatch(server: &TestServer, source: &Value, transfer: &str) -> Value {
    let response = server
        .post(
            &format!(
                "/api/v1/depots/{}/dispatch_transfer",
                source["id"].as_str().unwrap()
            ),
            &json!({"transfer": transfer, "to": DESTINATION, "item": "N95", "quantity": 100,
                    "reason": "支援开州", "expected_arrival": due()}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The event types of a transfer, in log order.
fn settlement(server: &TestServer, transfer: &str) -> Vec<String> {
    server.transfer_events(transfer)
}

fn sign(source: &Value, transfer: &str) -> Value {
    json!({"transfer": transfer, "from": source["id"], "received_by": "开州区储备点 库管员 王强"})
}

fn refuse(source: &Value, transfer: &str) -> Value {
    json!({"transfer": transfer, "from": source["id"], "reason": "随货单与实物不符"})
}

fn n95(depot: &Value) -> u64 {
    depot["state"]["stock"]["N95"]
        .as_object()
        .map_or(0, |lots| {
            lots.values().map(|l| l["quantity"].as_u64().unwrap()).sum()
        })
}

#[tokio::test]
async fn a_transfer_in_transit_is_received_when_signed_for_and_returned_when_refused() {
    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    let from = source["id"].as_str().unwrap();

    // Dispatched: on the road, held by neither depot.
    let signed_one = "53111111-2222-4333-8444-555555555555";
    let dispatched = dispatch(&server, &source, signed_one).await;
    assert_eq!(settlement(&server, signed_one), ["TransferDispatched"]);
    let at = dispatched["position"].as_u64().unwrap();
    let (_, on_road) = server
        .get(&server.url(&format!("/api/v1/depots/{from}?min_position={at}")))
        .await;
    assert_eq!(n95(&on_road), n95(&source) - 100);
    let outbound = &on_road["state"]["outbound"][signed_one];
    assert!(outbound["expected_arrival"].is_string(), "{outbound}");
    // Its id names no other transfer while it is on the road, from another depot either.
    let head = server.head().await;
    let twin = server
        .post(
            &format!("/api/v1/depots/{DESTINATION}/dispatch_transfer"),
            &json!({"transfer": signed_one, "to": from, "item": "N95", "quantity": 1,
                    "reason": "同号调拨"}),
        )
        .await;
    let problem = support::refused(twin, 409, "already-exists", "transfer").await;
    let name = source["name"].as_str().unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains(name),
        "{problem}"
    );
    assert_eq!(server.head().await, head);

    // Signed for at the destination: received there, same lots.
    let path = format!("/api/v1/depots/{DESTINATION}/sign_transfer");
    let signed = server.post(&path, &sign(&source, signed_one)).await;
    assert_eq!(signed.status(), 200);
    let signed: Value = signed.json().await.unwrap();
    assert_eq!(signed["events"][0]["type"], "TransferReceived", "{signed}");
    assert_eq!(signed["id"], DESTINATION);
    let (_, there) = server
        .get(&server.url(&format!(
            "/api/v1/depots/{DESTINATION}?min_position={}",
            signed["position"]
        )))
        .await;
    assert_eq!(n95(&there), 100);
    // Signing again changes nothing; refusing now is a 409 that says why.
    let again = server.post(&path, &sign(&source, signed_one)).await;
    assert_eq!(again.status(), 200);
    let late = server
        .post(
            &format!("/api/v1/depots/{DESTINATION}/refuse_transfer"),
            &refuse(&source, signed_one),
        )
        .await;
    assert_eq!(late.status(), 409);
    assert_eq!(
        problem_type(&late.json().await.unwrap()),
        "transfer-received"
    );
    assert_eq!(
        settlement(&server, signed_one),
        [
            "TransferDispatched",
            "TransferReceived",
            "TransferCompleted"
        ]
    );
    // Nobody else can claim it: not a depot it never went to, naming the
    // destination as its source (the destination holds its key, as a receipt),
    // nor the destination naming a source that never sent it.
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let bystander = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .find(|id| id != from && id != DESTINATION)
        .unwrap();
    let head = server.head().await;
    for (at, claimed_from) in [
        (bystander.as_str(), DESTINATION),
        (DESTINATION, bystander.as_str()),
    ] {
        claims_refused(&server, at, signed_one, claimed_from).await;
    }
    assert_eq!(server.head().await, head);
    // Completed at the source: its record is closed, nothing of it is kept.
    let (_, source_now) = server
        .get(&server.url(&format!(
            "/api/v1/depots/{from}?min_position={}",
            signed["position"]
        )))
        .await;
    assert!(
        source_now["state"]["outbound"].get(signed_one).is_none(),
        "{source_now}"
    );

    // Refused at the destination: back in the source's lots; a signature after is a 409.
    let refused_one = "54111111-2222-4333-8444-555555555555";
    dispatch(&server, &source, refused_one).await;
    let refused = server
        .post(
            &format!("/api/v1/depots/{DESTINATION}/refuse_transfer"),
            &refuse(&source, refused_one),
        )
        .await;
    assert_eq!(refused.status(), 200);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        refused["events"][0]["type"], "TransferReturned",
        "{refused}"
    );
    let (_, back) = server
        .get(&server.url(&format!(
            "/api/v1/depots/{from}?min_position={}",
            refused["position"]
        )))
        .await;
    assert_eq!(n95(&back), n95(&source) - 100, "only the signed one left");
    let after = server.post(&path, &sign(&source, refused_one)).await;
    assert_eq!(after.status(), 409);
    assert_eq!(
        problem_type(&after.json().await.unwrap()),
        "transfer-returned"
    );
    assert_eq!(
        settlement(&server, refused_one),
        ["TransferDispatched", "TransferReturned"]
    );
    // The return names the depot that refused it: another cannot claim it.
    let head = server.head().await;
    claims_refused(&server, &bystander, refused_one, from).await;
    assert_eq!(server.head().await, head);

    // A transfer that was never dispatched to this depot is named as unknown.
    let unknown = server
        .post(
            &path,
            &sign(&source, "55111111-2222-4333-8444-555555555555"),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let problem: Value = unknown.json().await.unwrap();
    assert_eq!(
        (problem_type(&problem), problem["field"].as_str()),
        ("unknown-reference", Some("transfer"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signatures_and_refusals_racing_for_one_transfer_settle_it_once() {
    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    let transfer = "56111111-2222-4333-8444-555555555555";
    dispatch(&server, &source, transfer).await;
    let sign_path = format!("/api/v1/depots/{DESTINATION}/sign_transfer");
    let refuse_path = format!("/api/v1/depots/{DESTINATION}/refuse_transfer");
    let (sign_body, refuse_body) = (sign(&source, transfer), refuse(&source, transfer));
    let racers = (0..20).map(|n| {
        let (path, body) = if n % 2 == 0 {
            (&sign_path, &sign_body)
        } else {
            (&refuse_path, &refuse_body)
        };
        server.post(path, body)
    });
    let statuses: Vec<u16> = join_all(racers)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let settled = settlement(&server, transfer);
    let received = [
        "TransferDispatched",
        "TransferReceived",
        "TransferCompleted",
    ];
    let returned = ["TransferDispatched", "TransferReturned"];
    assert!(
        settled == received || settled == returned,
        "dispatched and settled once: {settled:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_transfer_on_the_road_is_still_on_the_road_after_a_restart() {
    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    let transfer = "57111111-2222-4333-8444-555555555555";
    dispatch(&server, &source, transfer).await;
    // The restarted service sweeps transfers a crash left unsettled; this one
    // is not unsettled, it is travelling.
    let restarted = TestServer::over(support::log_copy(server.dir.path())).await;
    restarted.caught_up().await;
    assert_eq!(settlement(&restarted, transfer), ["TransferDispatched"]);
    let signed = restarted
        .post(
            &format!("/api/v1/depots/{DESTINATION}/sign_transfer"),
            &sign(&source, transfer),
        )
        .await;
    assert_eq!(signed.status(), 200);
    assert_eq!(
        settlement(&restarted, transfer),
        [
            "TransferDispatched",
            "TransferReceived",
            "TransferCompleted"
        ]
    );
}

/// A crash between the receipt at the destination and the completion at the
/// source leaves the source's record of the transfer open. The restarted
/// service completes it once, though the sweep and a client's retried
/// signature race to do it.
#[tokio::test]
async fn a_receipt_a_crash_left_uncompleted_is_completed_once_after_a_restart() {
    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    let transfer = "58111111-2222-4333-8444-555555555555";
    let dispatched = dispatch(&server, &source, transfer).await;
    let restarted =
        TestServer::over(receipt_without_completion(&server, &source, &dispatched, transfer).await)
            .await;
    let completed = [
        "TransferDispatched",
        "TransferReceived",
        "TransferCompleted",
    ];
    // Nobody signs again: the sweep at start completes it.
    completes(&restarted, transfer, &completed).await;
    let from = source["id"].as_str().unwrap();
    restarted.caught_up().await;
    let (_, depot) = restarted
        .get(&restarted.url(&format!("/api/v1/depots/{from}")))
        .await;
    assert!(
        depot["state"]["outbound"].get(transfer).is_none(),
        "{depot}"
    );

    // The same crash; this time the dispatcher, not knowing, signs again and
    // again while the sweep runs.
    let restarted =
        TestServer::over(receipt_without_completion(&server, &source, &dispatched, transfer).await)
            .await;
    let (path, body) = (
        format!("/api/v1/depots/{DESTINATION}/sign_transfer"),
        sign(&source, transfer),
    );
    let retries = (0..4).map(|_| restarted.post(&path, &body));
    for retry in join_all(retries).await {
        assert_eq!(retry.status(), 200);
    }
    completes(&restarted, transfer, &completed).await;
    // Once more from the top: nothing left to complete, nothing appended.
    let again = TestServer::over(support::log_copy(restarted.dir.path())).await;
    let signed = again
        .post(
            &format!("/api/v1/depots/{DESTINATION}/sign_transfer"),
            &sign(&source, transfer),
        )
        .await;
    assert_eq!(signed.status(), 200);
    assert_eq!(settlement(&again, transfer), completed);
}

/// Two dispatches of one new id that raced past the edge (one in transit and
/// received, its completion cut off by a crash; one from another depot, to be
/// received at once): the key admits one receipt, and the sweep after the
/// restart completes only the dispatch that receipt came from. The other stays
/// open at its depot, its stock in flight, rather than be closed for a receipt
/// of someone else's lots.
#[tokio::test]
async fn a_receipt_is_completed_only_at_the_depot_it_came_from() {
    use ercs_commands::{Aggregates, Expect, Metadata};
    use ercs_domain::decider::{CommandContext, Stamped};
    use ercs_domain::supply::depot::{Depot, DepotCommand};
    use ercs_domain::values::{Actor, Reason};

    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    // The twin's depot sorts first, so the sweep meets its dispatch first.
    let twin_depot = "00000000-2222-4333-8444-555555555555";
    support::register_depot(
        &server,
        twin_depot,
        "开州区应急物资中转点",
        "500154",
        KAIZHOU,
    )
    .await;
    support::receive_n95(&server, twin_depot, "TWIN-1", 50).await;
    let transfer = "59111111-2222-4333-8444-555555555555";
    let dispatched = dispatch(&server, &source, transfer).await;
    let copy = receipt_without_completion(&server, &source, &dispatched, transfer).await;
    let log: std::sync::Arc<dyn ercs_eventlog::EventLog> = std::sync::Arc::new(
        ercs_eventlog::SqliteEventLog::open(copy.path().join("events.db")).unwrap(),
    );
    let twin = DepotCommand::DispatchTransfer {
        transfer: transfer.parse().unwrap(),
        to: DESTINATION.parse().unwrap(),
        item: ercs_domain::supply::ItemCode::parse("N95").unwrap(),
        quantity: ercs_domain::values::Quantity::new(20),
        reason: Reason::parse("同号调拨").unwrap(),
        expected_arrival: None,
        incident: None,
    };
    Aggregates::new(log)
        .execute::<Depot>(
            &twin_depot.parse().unwrap(),
            Expect::Latest,
            Stamped {
                context: CommandContext::new(Actor::parse("调度员").unwrap(), chrono::Utc::now()),
                command: twin,
            },
            &Metadata::new("调度员"),
        )
        .await
        .unwrap();

    let restarted = TestServer::over(copy).await;
    let completed = [
        "TransferDispatched",
        "TransferReceived",
        "TransferDispatched",
        "TransferCompleted",
    ];
    completes(&restarted, transfer, &completed).await;
    let completed_at = restarted.count_events(
        "event_type = 'TransferCompleted' AND json_extract(data, '$.depot_id') = ?1",
        source["id"].as_str().unwrap(),
    );
    assert_eq!(
        completed_at, 1,
        "completed at the depot the receipt came from"
    );
    restarted.caught_up().await;
    let (_, twin) = restarted
        .get(&restarted.url(&format!("/api/v1/depots/{twin_depot}")))
        .await;
    assert_eq!(
        twin["state"]["outbound"][transfer]["to"], DESTINATION,
        "the twin stays open at its depot: {twin}"
    );
    let (_, destination) = restarted
        .get(&restarted.url(&format!("/api/v1/depots/{DESTINATION}")))
        .await;
    assert_eq!(n95(&destination), 100, "one receipt: {destination}");
}

/// Waits (10 s at most) until the transfer's events are `completed`; then
/// checks that nothing follows for a moment.
async fn completes(server: &TestServer, transfer: &str, completed: &[&str]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while settlement(server, transfer) != completed {
        assert!(
            std::time::Instant::now() < deadline,
            "never completed: {:?}",
            settlement(server, transfer)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(settlement(server, transfer), completed);
}

/// A copy of `server`'s log with the transfer process's first step alone — the
/// receipt at the destination — as a crash right after it leaves the log.
async fn receipt_without_completion(
    server: &TestServer,
    source: &Value,
    dispatched: &Value,
    transfer: &str,
) -> tempfile::TempDir {
    use ercs_commands::{Aggregates, Expect, Metadata};
    use ercs_domain::decider::{CommandContext, Stamped};
    use ercs_domain::supply::depot::{Depot, DepotCommand};
    use ercs_domain::values::{Actor, Reason};

    let copy = support::log_copy(server.dir.path());
    let log: std::sync::Arc<dyn ercs_eventlog::EventLog> = std::sync::Arc::new(
        ercs_eventlog::SqliteEventLog::open(copy.path().join("events.db")).unwrap(),
    );
    let data = &dispatched["events"][0]["data"];
    let receive = DepotCommand::ReceiveTransfer {
        transfer: transfer.parse().unwrap(),
        from: serde_json::from_value(source["id"].clone()).unwrap(),
        item: serde_json::from_value(data["item"].clone()).unwrap(),
        lots: serde_json::from_value(data["picks"].clone()).unwrap(),
        reason: Reason::parse("签收").unwrap(),
    };
    Aggregates::new(log)
        .execute::<Depot>(
            &DESTINATION.parse().unwrap(),
            Expect::Latest,
            Stamped {
                context: CommandContext::new(
                    Actor::parse("transfer-process").unwrap(),
                    chrono::Utc::now(),
                ),
                command: receive,
            },
            &Metadata::new("transfer-process")
                .with_idempotency_key(format!("transfer/{transfer}/settle")),
        )
        .await
        .unwrap();

    copy
}

#[tokio::test]
async fn a_consignment_names_a_real_destination_and_ends_once() {
    let server = TestServer::seeded().await;
    let source = depots(&server).await;
    let from = source["id"].as_str().unwrap();
    let issue = |shipment: &str, delivery: Value| {
        let mut delivery = delivery;
        delivery["shipment"] = json!(shipment);
        delivery["expected_arrival"] = json!(due());
        json!({"item": "N95", "quantity": 40, "plan": null, "reason": "发热门诊补给", "delivery": delivery})
    };
    let path = format!("/api/v1/depots/{from}/issue");
    let head = server.head().await;
    for (delivery, field) in [
        (json!({"area": "500101999"}), "delivery.area"),
        (
            json!({"area": "500101001", "facility": "99999999-8888-4777-8666-555555555555"}),
            "delivery.facility",
        ),
    ] {
        let refused = server
            .post(
                &path,
                &issue("58111111-2222-4333-8444-555555555555", delivery),
            )
            .await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(server.head().await, head, "nothing written");

    let shipment = "59111111-2222-4333-8444-555555555555";
    let body = issue(shipment, json!({"area": "500154001"}));
    let issued = server.post_keyed(&path, "issue-59111111", &body).await;
    assert_eq!(issued.status(), 200);
    // Its id is taken at every depot, not only at the one that issued it; the
    // first issue's retry, with its key, is still answered as the first time.
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let other = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"]["stock"]["N95"].is_object() && d["id"] != from)
        .expect("another depot with N95")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let head = server.head().await;
    let twin = server
        .post(&format!("/api/v1/depots/{other}/issue"), &body)
        .await;
    let problem = support::refused(twin, 409, "already-exists", "delivery.shipment").await;
    let name = source["name"].as_str().unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains(name),
        "{problem}"
    );
    assert_eq!(server.head().await, head);
    let retried = server.post_keyed(&path, "issue-59111111", &body).await;
    assert_eq!(retried.status(), 200);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(server.head().await, head);
    let sign_path = format!("/api/v1/depots/{from}/sign_delivery");
    let signature = json!({"shipment": shipment, "received_by": "汉丰街道社区卫生服务中心"});
    let signatures = (0..10).map(|_| server.post_keyed(&sign_path, "sign-59111111", &signature));
    for signed in join_all(signatures).await {
        assert_eq!(signed.status(), 200);
    }
    let signed = server.count_events(
        "event_type = 'DeliverySigned' AND json_extract(data, '$.shipment') = ?1",
        shipment,
    );
    assert_eq!(signed, 1, "ten clicks, one signature");
    let refused = server
        .post(
            &format!("/api/v1/depots/{from}/refuse_delivery"),
            &json!({"shipment": shipment, "reason": "迟到"}),
        )
        .await;
    assert_eq!(refused.status(), 422, "signed for, so no longer in transit");
}
