//! The live feed: every change to the one network as it happens, for GIS
//! dashboards (server-sent events at `/api/v1/feed`).
//!
//! The projector tells the feed of each event it applies, with the view as it
//! then stands, so every message is rendered once, in log order, from exactly
//! the state that event produced: the resource as a GeoJSON feature and its
//! district's rollup. Its SSE `id` is the event's log position.
//!
//! Messages go out on a broadcast channel and into a ring of recent ones. A
//! client that reconnects with `Last-Event-ID: p` gets everything after `p`: from
//! the ring if it still holds it, else rebuilt from the log up to where the ring
//! begins. A client too slow to keep up gets a `resync` event (refetch, then go
//! on from live) instead of holding anyone else back.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use chrono::Utc;
use ercs_domain::area::DivisionCode;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_eventlog::{Direction, EventLog, Filter, Position, ReadFrom, RecordedEvent};
use ercs_projections::one_network::{Resource, ResourceFilter, ResourceKind};
use ercs_projections::{AsOf, OneNetwork, Projection, rebuild_as_of};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use crate::gis::{Crs, feature};

/// Messages kept for resuming clients.
const RING: usize = 8192;
/// Messages a subscriber may fall behind the broadcast before it is resynced.
const LAG: usize = 1024;
/// A comment line this often keeps proxies from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// One change, rendered once for every subscriber.
pub struct Update {
    pub position: u64,
    /// The resource after the change, for filtering.
    pub resource: Resource,
    /// Its `data:` JSON: the feature (WGS-84) and the district rollup.
    pub json: String,
}

#[derive(Clone)]
pub struct Feed {
    hub: Arc<Hub>,
}

struct Hub {
    sender: broadcast::Sender<Arc<Update>>,
    ring: Mutex<Ring>,
    areas: Arc<AreaHierarchy>,
}

#[derive(Default)]
struct Ring {
    updates: VecDeque<Arc<Update>>,
    /// The highest position the ring no longer holds (0: it has lost nothing).
    evicted_through: u64,
}

impl Feed {
    pub fn new(areas: Arc<AreaHierarchy>) -> Self {
        let (sender, _) = broadcast::channel(LAG);
        Self {
            hub: Arc::new(Hub {
                sender,
                ring: Mutex::new(Ring::default()),
                areas,
            }),
        }
    }

    /// How many clients are subscribed now.
    pub fn subscribers(&self) -> usize {
        self.hub.sender.receiver_count()
    }

    /// Renders and publishes the change `event` made to `view`. Called by the
    /// projector, in log order. While the view replays history at start (`live`
    /// false) nothing is rendered: nobody was subscribed to those changes, and a
    /// client resuming into them is served from the log.
    pub fn publish(&self, view: &OneNetwork, event: &RecordedEvent, live: bool) {
        if !live {
            let mut ring = self.hub.ring.lock().unwrap_or_else(|p| p.into_inner());
            ring.updates.clear();
            ring.evicted_through = event.position.0;
            return;
        }
        let Some(update) = render(view, event, &self.hub.areas) else {
            return;
        };
        let update = Arc::new(update);
        let mut ring = self.hub.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.updates.len() == RING
            && let Some(old) = ring.updates.pop_front()
        {
            ring.evicted_through = old.position;
        }
        ring.updates.push_back(Arc::clone(&update));
        // Sent under the ring's lock, so a subscriber that copies the ring and
        // subscribes under it sees each update exactly once.
        let _ = self.hub.sender.send(update);
    }

    /// A subscriber's stream of SSE frames, resuming after `after` if given.
    pub fn subscribe(
        &self,
        log: Arc<dyn EventLog>,
        after: Option<u64>,
        filter: Subscription,
    ) -> mpsc::Receiver<Bytes> {
        let (frames, receiver) = mpsc::channel(256);
        let (backlog, evicted_through, live) = {
            let ring = self.hub.ring.lock().unwrap_or_else(|p| p.into_inner());
            let backlog: Vec<Arc<Update>> = match after {
                Some(after) => ring
                    .updates
                    .iter()
                    .filter(|u| u.position > after)
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            (backlog, ring.evicted_through, self.hub.sender.subscribe())
        };
        let hub = Arc::clone(&self.hub);
        tokio::spawn(async move {
            let _ = frames.send(Bytes::from_static(b"retry: 2000\n\n")).await;
            if let Some(after) = after.filter(|&after| after < evicted_through)
                && replay_from_log(&*log, after, evicted_through, &filter, &hub.areas, &frames)
                    .await
                    .is_err()
            {
                return;
            }
            for update in backlog {
                if filter.wants(&update, &hub.areas) && frames.send(frame(&update)).await.is_err() {
                    return;
                }
            }
            follow_live(live, &filter, &hub.areas, &frames).await;
        });
        receiver
    }
}

/// Renders the update for `event`, if its stream is a resource the view holds.
fn render(view: &OneNetwork, event: &RecordedEvent, areas: &AreaHierarchy) -> Option<Update> {
    let resource = view.resource_of_stream(event.stream.as_str())?;
    let district: Option<DivisionCode> = resource.areas.first().and_then(|area| {
        areas
            .district_of(area)
            .and_then(|r| r.code.as_division().cloned())
            .or_else(|| area.as_division().cloned())
    });
    let rollup = district
        .as_ref()
        .map(|d| json!({"area": d, "availability": view.area_rollup(d, areas, Utc::now())}));
    let json = json!({
        "position": event.position.0,
        "event_type": event.event_type.as_str(),
        "collection": resource.kind,
        "feature": feature(&resource, Crs::Wgs84),
        "rollup": rollup,
    })
    .to_string();
    Some(Update {
        position: event.position.0,
        resource,
        json,
    })
}

fn frame(update: &Update) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: update\ndata: {}\n\n",
        update.position, update.json
    ))
}

fn resync_frame(reason: &str) -> Bytes {
    Bytes::from(format!(
        "event: resync\ndata: {}\n\n",
        json!({"reason": reason, "action": "refetch the collections, then keep reading this stream"})
    ))
}

/// Renders what the ring has lost, `(after, through]`, afresh from the log.
async fn replay_from_log(
    log: &dyn EventLog,
    after: u64,
    through: u64,
    filter: &Subscription,
    areas: &AreaHierarchy,
    frames: &mpsc::Sender<Bytes>,
) -> Result<(), ()> {
    const PAGE: usize = 1024;
    let (mut view, _) = rebuild_as_of::<OneNetwork>(log, AsOf::Position(Position(after)))
        .await
        .map_err(|_| ())?;
    let mut from = after + 1;
    while from <= through {
        let page = log
            .read_all(
                ReadFrom::At(Position(from)),
                Direction::Forwards,
                &Filter::all(),
                PAGE,
            )
            .await
            .map_err(|_| ())?;
        let Some(last) = page.last() else { break };
        from = last.position.0 + 1;
        for event in page.iter().filter(|e| e.position.0 <= through) {
            view.apply(event);
            if let Some(update) = render(&view, event, areas)
                && filter.wants(&update, areas)
            {
                frames.send(frame(&update)).await.map_err(|_| ())?;
            }
        }
    }
    Ok(())
}

async fn follow_live(
    mut live: broadcast::Receiver<Arc<Update>>,
    filter: &Subscription,
    areas: &AreaHierarchy,
    frames: &mpsc::Sender<Bytes>,
) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        let frame = tokio::select! {
            received = live.recv() => match received {
                Ok(update) if filter.wants(&update, areas) => frame(&update),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(missed)) => resync_frame(&format!(
                    "this client fell {missed} updates behind the live feed"
                )),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = heartbeat.tick() => Bytes::from_static(b": heartbeat\n\n"),
        };
        if frames.send(frame).await.is_err() {
            return;
        }
    }
}

/// What a subscriber asked for.
#[derive(Debug, Clone, Default)]
pub struct Subscription {
    /// Only these collections; empty for all.
    pub collections: Vec<ResourceKind>,
    pub filter: ResourceFilter,
}

impl Subscription {
    fn wants(&self, update: &Update, areas: &AreaHierarchy) -> bool {
        (self.collections.is_empty() || self.collections.contains(&update.resource.kind))
            && self.filter.matches(&update.resource, areas)
    }
}
