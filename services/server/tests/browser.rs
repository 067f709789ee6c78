//! A dashboard page in a real headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs), served from another origin than the API: it reads the
//! network with its bearer token (a CORS preflight and all), asks for a feed
//! ticket, follows the feed with `EventSource` and sees a dispatcher's change
//! arrive. What the page saw it posts back to its own origin, where this test
//! reads it.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use ercs_server::auth::{Role, development};
use serde_json::Value;
use support::TestServer;
use tokio::sync::mpsc;

/// What the page reports: `(what, body)`.
type Reports = mpsc::UnboundedSender<(String, Value)>;

/// The dashboard: plain JavaScript, as a GIS page would use the API.
fn page(api: &str, token: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>一张网看板</title></head>
<body><script>
const api = {api:?}, token = {token:?};
const report = (what, body) => fetch("/report/" + what, {{
  method: "POST", headers: {{"Content-Type": "application/json"}}, body: JSON.stringify(body)}});
(async () => {{
  try {{
    const network = await fetch(api + "/api/v1/network", {{headers: {{"Authorization": "Bearer " + token}}}});
    const rollup = await network.json();
    const issued = await fetch(api + "/api/v1/feed/tickets",
                               {{method: "POST", headers: {{"Authorization": "Bearer " + token}}}});
    const ticket = await issued.json();
    const feed = new EventSource(api + ticket.feed + "&collection=teams");
    feed.onopen = () => report("open", {{
      network: network.status, position: network.headers.get("ERCS-Position"),
      districts: Object.keys(rollup).length, ticket: issued.status}});
    feed.addEventListener("update", (event) => {{
      report("update", {{id: event.lastEventId, update: JSON.parse(event.data)}});
      feed.close();
    }});
    feed.onerror = () => report("error", {{state: feed.readyState}});
  }} catch (error) {{
    report("error", {{message: String(error)}});
  }}
}})();
</script></body></html>"#
    )
}

/// Serves the page at `/` and takes its reports, on a port of its own: another origin.
async fn page_server(html: String, reports: Reports) -> (u16, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let (html, reports) = (html.clone(), reports.clone());
        App::new()
            .route(
                "/",
                web::get().to(move || {
                    let html = html.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(html)
                    }
                }),
            )
            .route(
                "/report/{what}",
                web::post().to(move |what: web::Path<String>, body: web::Json<Value>| {
                    let reports = reports.clone();
                    async move {
                        let _ = reports.send((what.into_inner(), body.into_inner()));
                        HttpResponse::NoContent().finish()
                    }
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (port, handle)
}

/// Headless Chromium on `url`, killed when dropped (its profile directory with it).
struct Browser(Child, #[allow(dead_code)] tempfile::TempDir);

impl Browser {
    fn open(url: &str) -> Self {
        let binary = std::env::var("ERCS_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(&binary)
            .args([
                "--headless",
                // As root, as CI runs, Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                // A closed network: nothing to fetch but the pages under test.
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start `{binary}` ({error}): the browser test needs Debian's chromium \
                     package, which `.ci/run` installs (or set ERCS_CHROMIUM to a Chromium binary)"
                )
            });
        Self(child, profile)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn next_report(reports: &mut mpsc::UnboundedReceiver<(String, Value)>) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(60), reports.recv())
        .await
        .expect("the page reported nothing within a minute")
        .expect("the page server stopped")
}

#[tokio::test]
async fn a_page_from_another_origin_reads_the_network_and_follows_the_feed_with_a_ticket() {
    let server = TestServer::seeded().await;
    let token = development::token_for("gis-wall", "市卫健委指挥大厅大屏", Role::Viewer, "500000");
    let (sender, mut reports) = mpsc::unbounded_channel();
    let (port, page_handle) = page_server(page(&server.base, &token), sender).await;
    let origin = format!("http://localhost:{port}");
    assert_ne!(
        origin, server.base,
        "the page must come from another origin"
    );
    let _browser = Browser::open(&format!("{origin}/"));

    let (what, opened) = next_report(&mut reports).await;
    assert_eq!(what, "open", "the page could not follow the feed: {opened}");
    assert_eq!(opened["network"], 200, "{opened}");
    assert_eq!(opened["ticket"], 201, "{opened}");
    assert!(opened["districts"].as_u64() > Some(0), "{opened}");
    assert!(
        opened["position"]
            .as_str()
            .is_some_and(|p| p.parse::<u64>().is_ok()),
        "the page cannot read ERCS-Position: {opened}"
    );

    // A dispatcher takes a team out of service; the page sees it.
    let (team, position) = support::take_a_team_out_of_service(&server).await;

    let (what, seen) = next_report(&mut reports).await;
    assert_eq!(what, "update", "{seen}");
    assert_eq!(seen["id"], position.to_string());
    assert_eq!(seen["update"]["feature"]["id"], team.as_str());
    assert_eq!(
        seen["update"]["feature"]["properties"]["status"],
        "unavailable"
    );
    page_handle.stop(false).await;
}
