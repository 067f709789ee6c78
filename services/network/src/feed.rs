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
//! the ring if it still holds it, else rendered afresh from the log up to where
//! the ring begins (a catch-up), then from the ring and live. A client too slow
//! to keep up gets a `resync` event (refetch, then go on from live) instead of
//! holding anyone else back.
//!
//! A catch-up is bounded work: it runs on the history runtime, never on the
//! request threads; it starts from the nearest kept view of the past, holds one
//! view and one page of the log at a time, and never touches the live view. Only
//! `catch_ups` run at once. Other resumes wait their turn, receiving heartbeats
//! (an `EventSource` gives up on an error status, so waiting is kinder than
//! refusing); beyond `queue` waiting, a resume is refused with 503 and
//! `Retry-After`. A client that takes no frame for [`STALL`] is dropped, so it
//! cannot hold a slot.

use std::borrow::Cow;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use ercs_domain::area::DivisionCode;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::ids::IncidentId;
use ercs_eventlog::{Direction, EventLog, Filter, Position, ReadFrom, RecordedEvent};
use ercs_projections::one_network::{Resource, ResourceFilter, ResourceKind};
use ercs_projections::{AsOf, History, OneNetwork, Projection};
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc, oneshot};

use crate::clock::Clock;
use crate::gis::{Crs, feature};
use crate::problem::Problem;

/// Messages kept for resuming clients, at most.
const RING: usize = 8192;
/// Bytes of rendered frames the ring keeps, at most: an update carries its
/// resource's whole state, and a depot's grows with its lots, open transfers
/// and consignments, so a count alone would not bound the memory. A resume
/// from before the ring is served from the log, as always.
const RING_BYTES: usize = 48 << 20;
/// Messages a subscriber may fall behind the broadcast before it is resynced.
const LAG: usize = 1024;
/// A comment line this often keeps proxies from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read from the log per page of a catch-up.
const PAGE: usize = 256;
/// A catch-up whose client takes no frame for this long is ended.
pub const STALL: Duration = Duration::from_secs(30);

/// One change, rendered once for every subscriber. The ring keeps 8,192 of
/// them, so an update keeps only what subscribers filter on and its rendered
/// JSON: a resource's state and its district's rollup as `Value` trees would
/// cost some 50 kB an update, 400 MB for a full ring.
pub struct Update {
    pub position: u64,
    /// The resource after the change, for filtering; its state is in `json`.
    pub resource: Resource,
    /// The incidents the resource is committed to after the change.
    pub incidents: BTreeSet<IncidentId>,
    /// Its SSE frame in WGS-84 (`id:`, `event:`, `data:` JSON), rendered once:
    /// every subscriber sends these same bytes, so delivering an update to a
    /// thousand subscribers copies nothing.
    wgs84: Bytes,
    /// Where its `data:` JSON starts in `wgs84`.
    data_at: usize,
    /// The frame in the other systems and details (GCJ-02 and BD-09, and each
    /// system without the state), made from the WGS-84 one by the first
    /// subscriber that reads it so and shared by the others.
    made: [OnceLock<Bytes>; 5],
}

/// How much of a resource each update carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// The feature with the resource's whole state in `properties.state`.
    #[default]
    Full,
    /// The feature without `properties.state`: what a map and a list show (name,
    /// tier, areas, kind, status, revision, what it is held for), and the rollup.
    /// A seeded depot's update is under a third of its full size (its lots are in
    /// the state).
    Summary,
}

impl Detail {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "full" => Some(Self::Full),
            "summary" => Some(Self::Summary),
            _ => None,
        }
    }

    pub const RULE: &'static str = "must be full or summary";
}

impl Update {
    fn new(position: u64, resource: Resource, incidents: BTreeSet<IncidentId>, json: &str) -> Self {
        let (wgs84, data_at) = update_frame(position, json);
        Update {
            position,
            resource,
            incidents,
            wgs84,
            data_at,
            made: Default::default(),
        }
    }

    /// The `data:` JSON in WGS-84.
    fn json(&self) -> &str {
        let data = &self.wgs84[self.data_at..self.wgs84.len() - 2];
        std::str::from_utf8(data).unwrap_or_default()
    }

    /// The frame of this update in `crs` with `detail`, shared by every
    /// subscriber that reads it so.
    fn frame(&self, crs: Crs, detail: Detail) -> Bytes {
        let slot = match (crs, detail) {
            (Crs::Wgs84, Detail::Full) => return self.wgs84.clone(),
            (Crs::Wgs84, Detail::Summary) => &self.made[0],
            (Crs::Gcj02, Detail::Full) => &self.made[1],
            (Crs::Gcj02, Detail::Summary) => &self.made[2],
            (Crs::Bd09, Detail::Full) => &self.made[3],
            (Crs::Bd09, Detail::Summary) => &self.made[4],
        };
        let made = slot.get_or_init(|| update_frame(self.position, &self.data(crs, detail)).0);
        made.clone()
    }

    /// The `data:` JSON with every coordinate in `crs` and `detail`: only the
    /// feature's point has coordinates, so the WGS-84 JSON is read back, its
    /// geometry redrawn and, for a summary, its state left out.
    fn data(&self, crs: Crs, detail: Detail) -> Cow<'_, str> {
        let redraw = self.resource.point.filter(|_| crs != Crs::Wgs84);
        if redraw.is_none() && detail == Detail::Full {
            return Cow::Borrowed(self.json());
        }
        let Ok(mut data) = serde_json::from_str::<Value>(self.json()) else {
            return Cow::Borrowed(self.json());
        };
        if let Some(at) = redraw {
            data["feature"]["geometry"] = crate::gis::point(&at, crs);
        }
        if detail == Detail::Summary
            && let Some(Value::Object(properties)) = data.pointer_mut("/feature/properties")
        {
            properties.remove("state");
        }
        Cow::Owned(data.to_string())
    }
}

#[derive(Clone)]
pub struct Feed {
    hub: Arc<Hub>,
}

struct Hub {
    sender: broadcast::Sender<Arc<Update>>,
    ring: Mutex<Ring>,
    areas: Arc<AreaHierarchy>,
    catch_up: CatchUp,
    /// Resyncs sent since start, for `/metrics`.
    resyncs: AtomicU64,
    /// The drill this feed is a network of (every message names it), and the
    /// network's clock (the rollups' "now").
    drill: Option<Arc<str>>,
    clock: Clock,
}

/// Where and how many resumes are served from the log.
pub struct CatchUp {
    pub log: Arc<dyn EventLog>,
    pub history: Arc<History<OneNetwork>>,
    /// The history runtime.
    pub runtime: Handle,
    slots: Arc<Semaphore>,
    /// Resumes waiting for a slot or catching up.
    queued: AtomicUsize,
    queue: usize,
}

impl CatchUp {
    /// At most `slots` catch-ups at once and `queue` waiting or running.
    pub fn new(
        log: Arc<dyn EventLog>,
        history: Arc<History<OneNetwork>>,
        runtime: Handle,
        slots: usize,
        queue: usize,
    ) -> Self {
        Self {
            log,
            history,
            runtime,
            slots: Arc::new(Semaphore::new(slots.max(1))),
            queued: AtomicUsize::new(0),
            queue: queue.max(slots),
        }
    }
}

/// A resume's place among the catch-ups, given back when it is dropped.
struct Ticket(Arc<Hub>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.catch_up.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A subscriber joining: the ring's updates after its position, and the live
/// channel from the one after them on.
type Joined = (Vec<Arc<Update>>, broadcast::Receiver<Arc<Update>>);

/// How a subscriber starts: joined already, or to catch up from the log first.
enum Start {
    Joined(Joined),
    CatchUp(u64, Ticket),
}

#[derive(Default)]
struct Ring {
    updates: VecDeque<Arc<Update>>,
    /// The highest position the ring no longer holds (0: it has lost nothing).
    evicted_through: u64,
    /// The WGS-84 frames' bytes of `updates` (a GCJ-02 or BD-09 copy, made
    /// when first read, is about as long again).
    bytes: usize,
}

impl Ring {
    /// Keeps `update`, letting the oldest go while more than `count` updates
    /// or `bytes` bytes are kept (the newest stays whatever its size).
    fn push(&mut self, update: Arc<Update>, count: usize, bytes: usize) {
        self.bytes += update.wgs84.len();
        self.updates.push_back(update);
        while self.updates.len() > 1 && (self.updates.len() > count || self.bytes > bytes) {
            let Some(old) = self.updates.pop_front() else {
                break;
            };
            self.bytes -= old.wgs84.len();
            self.evicted_through = old.position;
        }
    }

    fn clear(&mut self, through: u64) {
        self.updates.clear();
        self.bytes = 0;
        self.evicted_through = through;
    }
}

impl Feed {
    pub fn new(areas: Arc<AreaHierarchy>, catch_up: CatchUp) -> Self {
        Self::of_network(areas, catch_up, None, Clock::Wall)
    }

    /// The feed of drill `drill` (or of the live network for `None`), whose
    /// messages carry the drill's id and its drill time.
    pub fn of_network(
        areas: Arc<AreaHierarchy>,
        catch_up: CatchUp,
        drill: Option<Arc<str>>,
        clock: Clock,
    ) -> Self {
        let (sender, _) = broadcast::channel(LAG);
        Self {
            hub: Arc::new(Hub {
                sender,
                ring: Mutex::new(Ring::default()),
                areas,
                catch_up,
                resyncs: AtomicU64::new(0),
                drill,
                clock,
            }),
        }
    }

    /// Tells the feed where the view started (its snapshot's position): nothing
    /// before it was ever in the ring, so a resume from before it is served from
    /// the log. Safe to call after the view has moved on.
    pub fn starts_after(&self, position: u64) {
        let mut ring = self.hub.lock_ring();
        ring.evicted_through = ring.evicted_through.max(position);
    }

    /// How many clients are subscribed now.
    pub fn subscribers(&self) -> usize {
        self.hub.sender.receiver_count()
    }

    /// How many resyncs were sent to clients that fell behind, since start.
    pub fn resyncs(&self) -> u64 {
        self.hub.resyncs.load(Ordering::Relaxed)
    }

    /// Renders and publishes the change `event` made to `view`. Called by the
    /// projector, in log order. While the view replays history at start (`live`
    /// false) nothing is rendered: nobody was subscribed to those changes, and a
    /// client resuming into them is served from the log.
    pub fn publish(&self, view: &OneNetwork, event: &RecordedEvent, live: bool) {
        if !live {
            self.hub.lock_ring().clear(event.position.0);
            return;
        }
        let Some(update) = render(view, event, &self.hub) else {
            return;
        };
        let update = Arc::new(update);
        let mut ring = self.hub.lock_ring();
        ring.push(Arc::clone(&update), RING, RING_BYTES);
        // Sent under the ring's lock, so a subscriber that copies the ring and
        // subscribes under it sees each update exactly once.
        let _ = self.hub.sender.send(update);
    }

    /// A subscriber's stream of SSE frames, resuming after `after` if given; a
    /// 503 when too many resumes already wait for the log.
    ///
    /// A task sends what comes before live (the `retry:` line, a catch-up from
    /// the log, the ring's backlog) through a channel, then hands the broadcast
    /// receiver over; from then on the stream reads the broadcast itself, so a
    /// live update reaches the response with one wake-up and no copy.
    pub fn subscribe(&self, after: Option<u64>, filter: Subscription) -> Result<Frames, Problem> {
        // Joined at once when the ring suffices, so the stream starts exactly now.
        let start = match (self.hub.attach(after), after) {
            (Ok(joined), _) => Start::Joined(joined),
            (Err(_), after) => Start::CatchUp(after.unwrap_or_default(), self.hub.enqueue()?),
        };
        let (frames, receiver) = mpsc::channel(256);
        let (handover, live) = oneshot::channel();
        let hub = Arc::clone(&self.hub);
        let stream = Phase::Before {
            frames: receiver,
            live,
            filter: filter.clone(),
            hub: Arc::clone(&self.hub),
        };
        tokio::spawn(async move {
            let _ = frames.send(Bytes::from_static(b"retry: 2000\n\n")).await;
            let joined = match start {
                Start::Joined(joined) => joined,
                Start::CatchUp(after, ticket) => {
                    match hub
                        .join_after_catch_up(after, ticket, &filter, &frames)
                        .await
                    {
                        Some(joined) => joined,
                        None => return,
                    }
                }
            };
            let (backlog, live) = joined;
            for update in backlog {
                if filter.wants(&update, &hub.areas)
                    && frames
                        .send(update.frame(filter.crs, filter.detail))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            // A client may resume from a position its own write returned,
            // before the view has published it: live starts after it all the same.
            let _ = handover.send((live, after.unwrap_or(0)));
        });
        Ok(Box::pin(futures::stream::unfold(stream, Phase::next)))
    }
}

impl Hub {
    fn lock_ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enqueue(self: &Arc<Self>) -> Result<Ticket, Problem> {
        let queued = self.catch_up.queued.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket(Arc::clone(self));
        if queued >= self.catch_up.queue {
            return Err(Problem::unavailable(format!(
                "{queued} feed resumes are already being served from the log; retry later, or resume from a more recent position"
            ))
            .retry_after(5));
        }
        Ok(ticket)
    }

    /// Joins the ring and the live channel after `after`, if the ring still
    /// holds everything after it; else says up to where the log must serve.
    fn attach(&self, after: Option<u64>) -> Result<Joined, u64> {
        let ring = self.lock_ring();
        let backlog = match after {
            Some(after) if after < ring.evicted_through => return Err(ring.evicted_through),
            Some(after) => ring
                .updates
                .iter()
                .filter(|u| u.position > after)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        // Subscribed under the ring's lock, which `publish` sends under: the live
        // channel starts exactly after the backlog.
        Ok((backlog, self.sender.subscribe()))
    }

    /// Catches up from the log after `after`, in its turn, then joins the ring.
    /// `None` when the client has gone.
    async fn join_after_catch_up(
        self: &Arc<Self>,
        after: u64,
        ticket: Ticket,
        filter: &Subscription,
        frames: &mpsc::Sender<Bytes>,
    ) -> Option<Joined> {
        let slot = wait_for_slot(&self.catch_up.slots, frames).await?;
        let (hub, filter, frames) = (Arc::clone(self), filter.clone(), frames.clone());
        let catching_up = self.catch_up.runtime.spawn(async move {
            let _held = (slot, ticket);
            hub.catch_up(after, &filter, &frames).await
        });
        catching_up.await.ok().flatten()
    }

    /// Renders what the ring has lost, from the log, until the ring covers the
    /// rest; then joins it. Runs on the history runtime.
    async fn catch_up(
        &self,
        after: u64,
        filter: &Subscription,
        frames: &mpsc::Sender<Bytes>,
    ) -> Option<Joined> {
        let (start, _) = self
            .catch_up
            .history
            .at(AsOf::Position(Position(after)))
            .await
            .ok()?;
        let mut view = Arc::unwrap_or_clone(start);
        let mut reached = after;
        loop {
            match self.attach(Some(reached)) {
                Ok(joined) => return Some(joined),
                Err(through) => {
                    self.replay(&mut view, reached, through, filter, frames)
                        .await?;
                    reached = through;
                }
            }
        }
    }

    /// Renders `(after, through]` from the log, a page at a time, into `view`.
    async fn replay(
        &self,
        view: &mut OneNetwork,
        after: u64,
        through: u64,
        filter: &Subscription,
        frames: &mpsc::Sender<Bytes>,
    ) -> Option<()> {
        let mut from = after.saturating_add(1);
        while from <= through {
            let page = self
                .catch_up
                .log
                .read_all(
                    ReadFrom::At(Position(from)),
                    Direction::Forwards,
                    &Filter::all(),
                    PAGE,
                )
                .await
                .ok()?;
            let last = page.last()?;
            from = last.position.0.saturating_add(1);
            for event in page.iter().filter(|e| e.position.0 <= through) {
                view.apply(event);
                if let Some(update) = render(view, event, self)
                    && filter.wants(&update, &self.areas)
                {
                    tokio::time::timeout(
                        STALL,
                        frames.send(update.frame(filter.crs, filter.detail)),
                    )
                    .await
                    .ok()?
                    .ok()?;
                }
            }
        }
        Some(())
    }
}

/// A catch-up slot, sending heartbeats while it waits; `None` if the client went.
async fn wait_for_slot(
    slots: &Arc<Semaphore>,
    frames: &mpsc::Sender<Bytes>,
) -> Option<OwnedSemaphorePermit> {
    let acquire = Arc::clone(slots).acquire_owned();
    tokio::pin!(acquire);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            slot = &mut acquire => return slot.ok().filter(|_| !frames.is_closed()),
            _ = heartbeat.tick() => {
                frames.send(Bytes::from_static(b": waiting to catch up from the log\n\n")).await.ok()?;
            }
        }
    }
}

/// Renders the update for `event`, if its stream is a resource the view holds
/// or a plan made for an incident it holds (then the incident is the resource).
/// It goes to the subscribers of every incident the event concerns, including
/// the one whose commitment it ends (a release, a signature, a demobilisation).
fn render(view: &OneNetwork, event: &RecordedEvent, hub: &Hub) -> Option<Update> {
    let areas = &*hub.areas;
    let stream = event.stream.as_str();
    let (resource, incidents, plan) = match stream.strip_prefix("plan-") {
        Some(plan) => {
            let incident = *view.plans.get(&plan.parse().ok()?)?;
            let resource = view.resource_by_id(ResourceKind::Incidents, &incident.to_string())?;
            (resource, BTreeSet::from([incident]), Some(plan.to_owned()))
        }
        None => (
            view.resource_of_stream(stream)?,
            view.incidents_of_event(stream, event.data.as_str()),
            None,
        ),
    };
    let district: Option<DivisionCode> = resource.areas.first().and_then(|area| {
        areas
            .district_of(area)
            .and_then(|r| r.code.as_division().cloned())
            .or_else(|| area.as_division().cloned())
    });
    let rollup = district.as_ref().map(|area| RollupData {
        area,
        availability: view.area_rollup(area, areas, hub.clock.now()),
    });
    // Written straight to text, not built as a JSON tree first (that tree
    // and its drop were a twentieth of the server's CPU under mixed load).
    let json = serde_json::to_string(&UpdateData {
        collection: resource.kind,
        drill: hub.drill.as_deref(),
        event_type: event.event_type.as_str(),
        feature: feature(&resource, Crs::Wgs84),
        incidents: &incidents,
        plan: plan.as_deref(),
        position: event.position.0,
        rollup,
    })
    .inspect_err(|error| {
        tracing::error!(position = event.position.0, %error, "an update did not serialize; not sent")
    })
    .ok()?;
    let resource = Resource {
        state: Value::Null,
        ..resource
    };
    Some(Update::new(event.position.0, resource, incidents, &json))
}

/// An update's data (top-level keys in alphabetical order, as they came out
/// when it was built with `json!`).
#[derive(serde::Serialize)]
struct UpdateData<'a> {
    collection: ResourceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    drill: Option<&'a str>,
    event_type: &'a str,
    feature: Value,
    incidents: &'a BTreeSet<IncidentId>,
    plan: Option<&'a str>,
    position: u64,
    rollup: Option<RollupData<'a>>,
}

#[derive(serde::Serialize)]
struct RollupData<'a> {
    area: &'a DivisionCode,
    availability: ercs_projections::one_network::AreaRollup,
}

/// The SSE frame of the update at `position` with `json` as its data, and
/// where the data starts in it.
fn update_frame(position: u64, json: &str) -> (Bytes, usize) {
    let head = format!("id: {position}\nevent: update\ndata: ");
    let frame = Bytes::from([head.as_str(), json, "\n\n"].concat());
    (frame, head.len())
}

fn resync_frame(reason: &str) -> Bytes {
    Bytes::from(format!(
        "event: resync\ndata: {}\n\n",
        json!({"reason": reason, "action": "refetch the collections, then keep reading this stream"})
    ))
}

/// A subscriber's SSE frames, for a streaming response body.
pub type Frames = std::pin::Pin<Box<dyn futures::Stream<Item = Bytes> + Send>>;

/// Where a subscriber's stream stands.
enum Phase {
    /// Frames from the task that starts the subscriber, until it hands over
    /// the broadcast receiver and the position live starts after.
    Before {
        frames: mpsc::Receiver<Bytes>,
        live: oneshot::Receiver<(broadcast::Receiver<Arc<Update>>, u64)>,
        filter: Subscription,
        hub: Arc<Hub>,
    },
    Live(Live),
}

impl Phase {
    async fn next(self) -> Option<(Bytes, Phase)> {
        match self {
            Phase::Before {
                mut frames,
                live,
                filter,
                hub,
            } => {
                if let Some(frame) = frames.recv().await {
                    let phase = Phase::Before {
                        frames,
                        live,
                        filter,
                        hub,
                    };
                    return Some((frame, phase));
                }
                // The task is done (or the client's catch-up ended it): live,
                // if it handed the receiver over.
                let (receiver, after) = live.await.ok()?;
                let mut live = Live::new(receiver, filter, hub, after);
                let frame = live.next().await?;
                Some((frame, Phase::Live(live)))
            }
            Phase::Live(mut live) => {
                let frame = live.next().await?;
                Some((frame, Phase::Live(live)))
            }
        }
    }
}

/// A subscriber following the broadcast: its updates past `after` that its
/// filter wants, a resync when it fell behind, a heartbeat when all is quiet.
struct Live {
    receiver: broadcast::Receiver<Arc<Update>>,
    filter: Subscription,
    hub: Arc<Hub>,
    after: u64,
    heartbeat: tokio::time::Interval,
}

impl Live {
    fn new(
        receiver: broadcast::Receiver<Arc<Update>>,
        filter: Subscription,
        hub: Arc<Hub>,
        after: u64,
    ) -> Live {
        let first = tokio::time::Instant::now() + HEARTBEAT;
        Live {
            receiver,
            filter,
            hub,
            after,
            heartbeat: tokio::time::interval_at(first, HEARTBEAT),
        }
    }

    /// The next frame, or `None` when the feed has closed.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            return Some(tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(update)
                        if update.position > self.after
                            && self.filter.wants(&update, &self.hub.areas) =>
                    {
                        update.frame(self.filter.crs, self.filter.detail)
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        self.hub.resyncs.fetch_add(1, Ordering::Relaxed);
                        resync_frame(&format!(
                            "this client fell {missed} updates behind the live feed"
                        ))
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.heartbeat.tick() => Bytes::from_static(b": heartbeat\n\n"),
            });
        }
    }
}

/// What a subscriber asked for.
#[derive(Debug, Clone, Default)]
pub struct Subscription {
    /// Only these collections; empty for all.
    pub collections: Vec<ResourceKind>,
    pub filter: ResourceFilter,
    /// Only changes to the incident and to what is committed to it.
    pub incident: Option<IncidentId>,
    /// The coordinates' reference system (AMap and Tencent: GCJ-02; Baidu: BD-09).
    pub crs: Crs,
    /// The whole state of each resource, or a summary for maps and lists.
    pub detail: Detail,
}

impl Subscription {
    fn wants(&self, update: &Update, areas: &AreaHierarchy) -> bool {
        (self.collections.is_empty() || self.collections.contains(&update.resource.kind))
            && self
                .incident
                .is_none_or(|incident| update.incidents.contains(&incident))
            && self.filter.matches(&update.resource, areas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(position: u64, state_bytes: usize) -> Arc<Update> {
        let resource = Resource {
            kind: ResourceKind::Depots,
            id: position.to_string(),
            name: "万州区应急物资储备库".into(),
            tier: None,
            areas: Vec::new(),
            subkind: String::new(),
            status: None,
            point: None,
            mark: None,
            held_for: Vec::new(),
            state: Value::Null,
        };
        let json = format!("{{\"state\":\"{}\"}}", "x".repeat(state_bytes));
        Arc::new(Update::new(position, resource, BTreeSet::new(), &json))
    }

    #[test]
    fn the_ring_keeps_at_most_its_count_and_its_bytes_oldest_out_first() {
        let mut ring = Ring::default();
        for position in 1..=10 {
            ring.push(update(position, 100), 4, usize::MAX);
        }
        assert_eq!(ring.updates.len(), 4);
        assert_eq!(ring.evicted_through, 6);

        // Updates of 10 kB each under a 35 kB budget: three fit.
        let mut ring = Ring::default();
        for position in 1..=10 {
            ring.push(update(position, 10_000), 100, 35_000);
        }
        let kept: Vec<u64> = ring.updates.iter().map(|u| u.position).collect();
        assert_eq!(kept, [8, 9, 10]);
        assert_eq!(ring.evicted_through, 7);
        assert!(ring.bytes <= 35_000, "{} bytes", ring.bytes);
        let counted: usize = ring.updates.iter().map(|u| u.wgs84.len()).sum();
        assert_eq!(ring.bytes, counted);

        // One update larger than the budget is still kept, alone.
        ring.push(update(11, 50_000), 100, 35_000);
        assert_eq!(ring.updates.len(), 1);
        assert_eq!(ring.evicted_through, 10);
        ring.clear(11);
        assert_eq!(
            (ring.updates.len(), ring.bytes, ring.evicted_through),
            (0, 0, 11)
        );
    }
}
