//! Building and running the HTTP application.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;

use actix_http::{HttpService, error::DispatchError};
use actix_server::Server;
use actix_service::{ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, web};
use ercs_eventlog::{EventLog, SqliteEventLog, SqliteOptions};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::auth::Authenticator;
use crate::auth::guard::RouteRules;
use crate::background::Background;
use crate::bare_errors::ProblemIo;
use crate::cli::{DataDir, ServeArgs};
use crate::drills::Drills;
use crate::problem::Problem;
use crate::routes;
pub use crate::state::AppState;
pub use ercs_network::Shared;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create {path} in the data directory: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    EventLog(#[from] ercs_eventlog::Error),
    #[error("cannot load the city's areas: {0}")]
    Geography(#[from] ercs_seed::SeedError),
    #[error("cannot install the stop signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot start the history runtime: {0}")]
    Background(std::io::Error),
    #[error(transparent)]
    Auth(#[from] crate::auth::config::AuthConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built application: bound to its port, its stop signals installed.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    stop: Stop,
    state: web::Data<AppState>,
}

/// SIGINT and SIGTERM, caught from the moment the application is built: a signal
/// that arrives before the server first runs must still stop it gracefully.
struct Stop {
    interrupt: Signal,
    terminate: Signal,
}

impl Stop {
    fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

impl Application {
    /// Opens the event log in the data directory and binds `args.listen`.
    pub fn build(args: &ServeArgs) -> Result<Self, StartError> {
        Self::build_on(args, Arc::new(args.data.open_log()?))
    }

    /// Binds `args.listen` and serves `log`, already open (and perhaps seeded).
    /// Must be called within a Tokio runtime: the one-network view starts
    /// following the log at once.
    pub fn build_on(args: &ServeArgs, log: Arc<dyn EventLog>) -> Result<Self, StartError> {
        let metrics = Arc::new(crate::metrics::Metrics::new(
            args.ops.instance(),
            args.data.store_kind(),
        ));
        let log: Arc<dyn EventLog> = Arc::new(crate::metered::metered(log, Arc::clone(&metrics)));
        let auth = web::Data::new(Authenticator::from_args(
            &args.auth,
            args.listen,
            Arc::clone(&log),
        )?);
        let listener = TcpListener::bind(args.listen).map_err(|source| StartError::Listen {
            addr: args.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: args.listen,
            source,
        })?;
        let (state, shared) = app_state(args, log, metrics)?;
        let state = web::Data::new(state);
        let drills = web::Data::new(Drills::new(
            &args.data.data_dir,
            shared,
            state.clone(),
            args.ops.max_drills,
        ));
        let kept = state.clone();
        actix_web::rt::spawn(become_ready(state.clone(), drills.clone()));
        let server = serve(listener, addr, (state, drills), auth)?;
        let stop = Stop::install().map_err(StartError::Signals)?;
        Ok(Self {
            addr,
            server,
            stop,
            state: kept,
        })
    }

    /// The address actually bound (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight and
    /// snapshots the one-network view and the command path's states, so the next
    /// start neither replays the log nor folds every aggregate's stream again.
    /// Must run on the runtime that built the application.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            mut stop,
            state,
            ..
        } = self;
        let handle = server.handle();
        // Its own task, so it runs (and can take the stop command) whenever the
        // signal comes, even before this function would first have polled it.
        let mut running = actix_web::rt::spawn(server);
        tokio::select! {
            result = &mut running => return result.map_err(std::io::Error::other)?,
            () = stop.received() => tracing::info!("stopping: finishing requests in flight"),
        }
        handle.stop(true).await;
        let served = running.await.map_err(std::io::Error::other)?;
        if let Err(error) = state.save_snapshots().await {
            tracing::warn!(%error, "could not snapshot the one-network view or the command path's states");
        }
        tracing::info!("stopped");
        served
    }
}

/// The HTTP server on `listener`: the routes, every error as problem+json
/// (`ErrorHandlers` for the service's own, [`ProblemIo`] for the HTTP layer's),
/// and the API's paths for 405s. actix-web's `HttpServer` is not used because it
/// cannot wrap a connection's socket, which [`ProblemIo`] needs; this is what it
/// does otherwise, for HTTP/1.1. The app's default `AppConfig` only matters for
/// a request without a `Host` header (HTTP/1.0), whose GIS links then name
/// `localhost:8080`.
fn serve(
    listener: TcpListener,
    addr: SocketAddr,
    (state, drills): (web::Data<AppState>, web::Data<Drills>),
    auth: web::Data<Authenticator>,
) -> Result<Server, StartError> {
    let openapi = crate::openapi::document_json();
    let known = web::Data::new(routes::fallback::KnownPaths::of(&openapi));
    let rules = web::Data::new(RouteRules::of(&openapi));
    let builder = Server::build().disable_signals();
    // Tells each connection to finish its request and close when the server
    // stops, so idle keep-alive connections do not hold a graceful stop.
    let stopping = builder.graceful_shutdown_signal();
    let header_timeout = auth.header_timeout;
    let builder = builder
        .listen("ercs-http", listener, move || {
            let (state, drills) = (state.clone(), drills.clone());
            let known = known.clone();
            let cors = crate::auth::cors::cors(auth.mode, &auth.cors_origins);
            let (auth, rules) = (auth.clone(), rules.clone());
            let openapi = openapi.clone();
            let app = App::new()
                // Innermost: a refused request reaches no handler.
                .wrap(actix_web::middleware::from_fn(crate::auth::guard::guard))
                .wrap(actix_web::middleware::from_fn(crate::auth::limits::timeout))
                .wrap(ErrorHandlers::new().default_handler(crate::problem::problem_for_any_error))
                // Outside the error shapes, so a drill's problems name it too.
                .wrap(actix_web::middleware::from_fn(crate::drills::tag))
                // Outside the guard and the error shapes, so a refusal and every
                // problem carry the request id and are counted; inside
                // compression, so it reads a problem's body as written.
                .wrap(actix_web::middleware::from_fn(crate::observe::observe))
                // gzip when the client accepts it: a plan or a network rollup
                // shrinks three- to tenfold. The feed opts out (see routes/feed.rs).
                .wrap(actix_web::middleware::Compress::default())
                .app_data(state)
                .app_data(drills)
                .app_data(known)
                .app_data(auth)
                .app_data(rules)
                .configure(|config| endpoints(config, openapi))
                // Outermost: a preflight is answered before the guard (browsers
                // send it without a token), and every answer, a 401 included,
                // carries the CORS headers a page needs to read it.
                .wrap(cors);
            let stopping = stopping.clone();
            // The timeouts `HttpServer` would set, the request head's configurable.
            let http = HttpService::build()
                .client_request_timeout(header_timeout)
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(addr)
                .graceful_shutdown_signal(move || {
                    let stopping = stopping.clone();
                    async move { stopping.notified().await }
                })
                .h1(map_config(app, |_| AppConfig::default()));
            fn_service(|stream: actix_web::rt::net::TcpStream| async move {
                // Without it a feed's frame waits behind the previous one's
                // ACK, which the subscriber delays by up to 40 ms (Nagle's
                // algorithm against delayed ACKs); `HttpServer` leaves it unset too.
                let _ = stream.set_nodelay(true);
                let peer = stream.peer_addr().ok();
                Ok::<_, DispatchError>((ProblemIo::new(stream), peer))
            })
            .and_then(http)
        })
        .map_err(|source| StartError::Listen { addr, source })?;
    Ok(builder.run())
}

/// Every endpoint, and what answers when none does.
fn endpoints(config: &mut web::ServiceConfig, openapi: serde_json::Value) {
    config
        .app_data(
            web::PathConfig::default()
                .error_handler(|error, _| Problem::not_found(error.to_string()).into()),
        )
        .service(routes::health::healthz)
        .service(routes::health::readyz)
        .service(routes::health::metrics)
        .configure(routes::tokens::configure);
    // The live network's endpoints, and the same on every drill's network,
    // in a scope of their own: a live request passes all of them with one
    // prefix test (actix tries routes in order, a regex for each dynamic one).
    network_endpoints(config, "/api/v1");
    config.service(web::scope("/api/v1/drills").configure(|drills| {
        routes::drills::configure(drills);
        network_endpoints(drills, "/{drill}");
    }));
    config
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .external_url_unchecked("/api/v1/openapi.json", openapi),
        )
        .default_service(web::to(routes::fallback::no_route));
}

/// The endpoints of one network, under `base`.
fn network_endpoints(config: &mut web::ServiceConfig, base: &str) {
    routes::incidents::configure(config, base);
    // Before the commands: their `{id}/{action}` resource would take `{id}/history`.
    routes::audit::configure(config, base);
    routes::resources::configure(config, base);
    routes::commands::configure(config, base);
    routes::network::configure(config, base);
    routes::feed::configure(config, base);
    routes::plans::configure(config, base);
    routes::ogc::configure(config, base);
}

/// Marks the service ready once the view has caught up with the log's head as it
/// was at start (so no read before then sees a partial network), then settles
/// the transfers a crash left unsettled.
async fn become_ready(state: web::Data<AppState>, drills: web::Data<Drills>) {
    let head = state.log.head().await.unwrap_or_default();
    let caught_up = state
        .view
        .wait_for(head, std::time::Duration::from_secs(24 * 3600))
        .await;
    if caught_up.is_ok() {
        state
            .ready
            .store(true, std::sync::atomic::Ordering::Release);
        tracing::info!(
            position = head.0,
            "the one-network view has caught up; ready"
        );
        crate::transfers::sweep(&state).await;
        drills.restore().await;
    }
}

/// The handlers' state: the one-network view starts following the log, and
/// every change it applies goes out on the live feed and is offered to history.
fn app_state(
    args: &ServeArgs,
    log: Arc<dyn EventLog>,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<(AppState, Shared), StartError> {
    let geography = Arc::new(ercs_seed::chongqing::geography()?);
    let areas = Arc::new(geography.hierarchy()?);
    let shared = Shared {
        geography,
        areas,
        background: Arc::new(Background::start().map_err(StartError::Background)?),
        metrics,
        tuning: args.view.clone(),
        access: args.data.access(),
        max_lag: std::time::Duration::from_secs(args.ops.max_lag),
    };
    let state = AppState::start(&shared, log, args.data.data_dir.clone(), None)
        .map_err(StartError::Background)?;
    Ok((state, shared))
}

/// Opens (creating if need be) the event log `events.db` in `data_dir`, its
/// files readable by their owner alone.
pub fn open_log(data_dir: &Path) -> Result<SqliteEventLog, StartError> {
    DataDir::at(data_dir).open_log()
}

impl DataDir {
    /// Opens (creating it and the directory if need be) the event log
    /// `events.db`, each new file with this directory's access.
    pub fn open_log(&self) -> Result<SqliteEventLog, StartError> {
        self.create()?;
        let options = SqliteOptions {
            access: self.access(),
            ..SqliteOptions::default()
        };
        Ok(SqliteEventLog::open_with(
            self.data_dir.join("events.db"),
            options,
        )?)
    }

    pub(crate) fn create(&self) -> Result<(), StartError> {
        self.access()
            .create_dir_all(&self.data_dir)
            .map_err(|source| StartError::DataDir {
                path: self.data_dir.display().to_string(),
                source,
            })
    }
}
