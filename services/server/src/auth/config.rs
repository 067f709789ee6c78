//! Development and production modes, and the keys tokens are checked against.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use ercs_eventlog::EventLog;
use jsonwebtoken::Algorithm;

use super::development;
use super::jwt::{DEFAULT_LEEWAY_SECONDS, JwtVerifier, Refused};
use super::lasting::Credential;
use super::principal::{Principal, Role};
use super::tokens::ApiTokens;
use crate::problem::Problem;

/// How the service checks who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Loopback only; development tokens (printed at start) are accepted beside
    /// any configured keys and API tokens.
    Development,
    /// Configured JWT keys and API tokens only; refuses to start without keys,
    /// and without TLS in front of it.
    Production,
}

/// Access-control settings of `ercs serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// `development` (the default: says so at start, prints a token per role,
    /// loopback only) or `production`.
    #[arg(long, env = "ERCS_MODE", value_enum, default_value_t = Mode::Development)]
    pub mode: Mode,

    /// The `iss` every JWT must carry.
    #[arg(long, env = "ERCS_JWT_ISSUER", value_name = "ISSUER")]
    pub jwt_issuer: Option<String>,

    /// The `aud` every JWT must carry.
    #[arg(
        long,
        env = "ERCS_JWT_AUDIENCE",
        default_value = "ercs",
        value_name = "AUDIENCE"
    )]
    pub jwt_audience: String,

    /// A file holding the HS256 shared secret (at least 32 bytes).
    #[arg(long, env = "ERCS_JWT_HS256_SECRET_FILE", value_name = "FILE")]
    pub jwt_hs256_secret_file: Option<PathBuf>,

    /// An RS256 public key, PEM.
    #[arg(long, env = "ERCS_JWT_RS256_PUBLIC_KEY", value_name = "FILE")]
    pub jwt_rs256_public_key: Option<PathBuf>,

    /// An ES256 (P-256) public key, PEM.
    #[arg(long, env = "ERCS_JWT_ES256_PUBLIC_KEY", value_name = "FILE")]
    pub jwt_es256_public_key: Option<PathBuf>,

    /// A JWKS file (RS256 and ES256 keys, chosen by `kid`).
    #[arg(long, env = "ERCS_JWT_JWKS", value_name = "FILE")]
    pub jwt_jwks: Option<PathBuf>,

    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "ERCS_JWT_LEEWAY_SECONDS", default_value_t = DEFAULT_LEEWAY_SECONDS, value_name = "SECONDS")]
    pub jwt_leeway_seconds: u64,

    /// Production only: TLS is terminated by a proxy in front of the service
    /// (the service itself speaks plain HTTP). Production refuses to start
    /// without it.
    #[arg(long, env = "ERCS_BEHIND_TLS_PROXY", value_parser = clap::builder::BoolishValueParser::new())]
    pub behind_tls_proxy: bool,

    /// Origins whose pages may call the API (`https://gis.wsjkw.cq.example`),
    /// comma-separated. None: in development any port of localhost and
    /// 127.0.0.1; in production no other origin.
    #[arg(
        long,
        env = "ERCS_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub cors_origins: Vec<String>,

    /// Requests a second one token (its subject) may send, with bursts of ten
    /// seconds' worth; beyond, 429 with `Retry-After`. 0: no limit.
    #[arg(
        long,
        env = "ERCS_TOKEN_REQUESTS_PER_SECOND",
        default_value_t = 100,
        value_name = "N"
    )]
    pub token_requests_per_second: u32,

    /// Requests a second one client address may send (bursts of ten seconds'
    /// worth); health checks are not counted. 0: no limit.
    #[arg(
        long,
        env = "ERCS_ADDRESS_REQUESTS_PER_SECOND",
        default_value_t = 200,
        value_name = "N"
    )]
    pub address_requests_per_second: u32,

    /// Feed connections one token (its subject) may hold open at once; beyond,
    /// 429. One connection can follow several collections. 0: no cap.
    #[arg(
        long,
        env = "ERCS_FEED_CONNECTIONS_PER_TOKEN",
        default_value_t = 16,
        value_name = "N"
    )]
    pub feed_connections_per_token: usize,

    /// How long a feed ticket (`POST /api/v1/feed/tickets`) may wait to open
    /// its one feed connection.
    #[arg(long, env = "ERCS_FEED_TICKET_SECONDS", default_value_t = super::tickets::TICKET_SECONDS,
          value_parser = clap::value_parser!(u32).range(1..=3600), value_name = "SECONDS")]
    pub feed_ticket_seconds: u32,

    /// The longest a request may take to be answered (the feed's stream, once
    /// open, excepted), e.g. `30` or `2.5`; beyond, 503 `request-timeout`. 0: no limit.
    #[arg(
        long,
        env = "ERCS_REQUEST_TIMEOUT_SECONDS",
        default_value_t = 30.0,
        value_parser = parse_seconds,
        value_name = "SECONDS"
    )]
    pub request_timeout_seconds: f64,

    /// The longest a client may take to send a request's head (slow clients
    /// hold a connection); beyond, 408 and the connection is closed.
    #[arg(
        long,
        env = "ERCS_HEADER_TIMEOUT_SECONDS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "SECONDS"
    )]
    pub header_timeout_seconds: u64,

    /// Roles that may read only their own jurisdiction (one resource inside it,
    /// or a list with `area=` inside it), comma-separated, e.g.
    /// `township_operator`. By default every role reads the whole network.
    #[arg(long, env = "ERCS_OWN_JURISDICTION_READS", value_delimiter = ',', value_name = "ROLE",
          value_parser = parse_role)]
    pub own_jurisdiction_reads: Vec<Role>,
}

fn parse_seconds(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && (0.0..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{raw}` is not a number of seconds from 0 to 86400"
        )),
    }
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("`{raw}` is not a role"))
}

impl AuthArgs {
    /// Development mode with no other keys: what the tests run.
    pub fn development() -> Self {
        Self {
            mode: Mode::Development,
            jwt_issuer: None,
            jwt_audience: development::AUDIENCE.to_owned(),
            jwt_hs256_secret_file: None,
            jwt_rs256_public_key: None,
            jwt_es256_public_key: None,
            jwt_jwks: None,
            jwt_leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            behind_tls_proxy: false,
            cors_origins: Vec::new(),
            token_requests_per_second: 100,
            address_requests_per_second: 200,
            feed_connections_per_token: 16,
            feed_ticket_seconds: super::tickets::TICKET_SECONDS,
            request_timeout_seconds: 30.0,
            header_timeout_seconds: 5,
            own_jurisdiction_reads: Vec::new(),
        }
    }
}

/// Why the service refuses to start as configured.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error(
        "production mode needs keys: --jwt-hs256-secret-file, --jwt-rs256-public-key, \
         --jwt-es256-public-key or --jwt-jwks, with --jwt-issuer"
    )]
    NoKeys,
    #[error("--jwt-issuer is required with JWT keys")]
    NoIssuer,
    #[error(
        "production mode serves plain HTTP only behind a TLS-terminating proxy: set \
         --behind-tls-proxy (ERCS_BEHIND_TLS_PROXY=true) once one is in front"
    )]
    NoTls,
    #[error(
        "development mode accepts tokens anyone can make, so it listens on loopback only, \
         not {0}; use --mode production"
    )]
    DevelopmentNotLoopback(SocketAddr),
    #[error("the HS256 secret must be at least 32 bytes")]
    ShortSecret,
    #[error("cannot read a key: {0}")]
    Key(String),
}

/// Checks bearer tokens: JWTs and the log's API tokens.
pub struct Authenticator {
    pub mode: Mode,
    /// The origins CORS allows (see [`super::cors`]).
    pub cors_origins: Vec<String>,
    pub limits: super::limits::RateLimits,
    /// Open feed connections per token.
    pub feeds: super::limits::FeedConnections,
    /// `None`: no limit.
    pub request_timeout: Option<std::time::Duration>,
    pub header_timeout: std::time::Duration,
    pub tickets: super::tickets::FeedTickets,
    /// Roles that read their own jurisdiction only.
    pub own_reads: Vec<Role>,
    configured: Option<JwtVerifier>,
    development: Option<JwtVerifier>,
    pub tokens: ApiTokens,
}

impl Authenticator {
    /// Checks `args` for serving on `listen` and loads the keys.
    pub fn from_args(
        args: &AuthArgs,
        listen: SocketAddr,
        log: Arc<dyn EventLog>,
    ) -> Result<Self, AuthConfigError> {
        let configured = configured_keys(args)?;
        let development = match args.mode {
            Mode::Production => {
                if configured.is_none() {
                    return Err(AuthConfigError::NoKeys);
                }
                if !args.behind_tls_proxy {
                    return Err(AuthConfigError::NoTls);
                }
                None
            }
            Mode::Development => {
                if !listen.ip().is_loopback() {
                    return Err(AuthConfigError::DevelopmentNotLoopback(listen));
                }
                let verifier = JwtVerifier::new(
                    development::ISSUER.to_owned(),
                    development::AUDIENCE.to_owned(),
                    args.jwt_leeway_seconds,
                );
                Some(
                    verifier
                        .with_secret(development::SECRET)
                        .map_err(AuthConfigError::Key)?,
                )
            }
        };
        Ok(Self {
            mode: args.mode,
            cors_origins: args.cors_origins.clone(),
            own_reads: args.own_jurisdiction_reads.clone(),
            limits: super::limits::RateLimits {
                per_token: super::limits::Limiter::new(args.token_requests_per_second),
                per_address: super::limits::Limiter::new(args.address_requests_per_second),
            },
            feeds: super::limits::FeedConnections::new(args.feed_connections_per_token),
            request_timeout: (args.request_timeout_seconds > 0.0)
                .then(|| std::time::Duration::from_secs_f64(args.request_timeout_seconds)),
            header_timeout: std::time::Duration::from_secs(args.header_timeout_seconds),
            configured,
            development,
            tickets: super::tickets::FeedTickets::new(Arc::clone(&log), args.feed_ticket_seconds),
            tokens: ApiTokens::new(log),
        })
    }

    /// The principal of a feed request's `?ticket=`, which it uses up (within
    /// request `request_id`).
    pub async fn redeem(
        &self,
        ticket: &str,
        request_id: uuid::Uuid,
    ) -> Result<(Principal, Credential), Problem> {
        use super::tickets::Refused;
        match self.tickets.redeem(ticket, request_id).await {
            Ok(redeemed) => Ok(redeemed),
            Err(Refused::Log(error)) => Err(Problem::unavailable(format!(
                "cannot read feed tickets: {error}"
            ))),
            Err(refused) => Err(unauthenticated(refused.to_string()).with_field("ticket")),
        }
    }

    /// The principal of the request's `Authorization: Bearer …`, and how long
    /// the token lasts; `Err` is the 401.
    pub async fn authenticate(
        &self,
        headers: &actix_web::http::header::HeaderMap,
    ) -> Result<(Principal, Credential), Problem> {
        let bearer = bearer(headers)?;
        if ApiTokens::is_api_token(bearer) {
            return match self.tokens.authenticate(bearer).await {
                Ok(Some((principal, token_id))) => {
                    Ok((principal, Credential::ApiToken { token_id }))
                }
                Ok(None) => Err(unauthenticated(Refused::Revoked.to_string())),
                Err(error) => Err(Problem::unavailable(format!(
                    "cannot read API tokens: {error}"
                ))),
            };
        }
        // A signature that does not verify under one verifier's keys may under
        // another's; any other refusal is the token's own fault, and is said.
        let mut refused = Refused::Signature;
        for verifier in [&self.configured, &self.development].into_iter().flatten() {
            match verifier.verify_until(bearer) {
                Ok((principal, until)) => {
                    let until = i64::try_from(until)
                        .ok()
                        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
                    return Ok((principal, Credential::Until { until }));
                }
                Err(Refused::Signature) => {}
                Err(other) => refused = other,
            }
        }
        Err(unauthenticated(refused.to_string()))
    }
}

fn configured_keys(args: &AuthArgs) -> Result<Option<JwtVerifier>, AuthConfigError> {
    let any = args.jwt_hs256_secret_file.is_some()
        || args.jwt_rs256_public_key.is_some()
        || args.jwt_es256_public_key.is_some()
        || args.jwt_jwks.is_some();
    if !any {
        return Ok(None);
    }
    let issuer = args.jwt_issuer.clone().ok_or(AuthConfigError::NoIssuer)?;
    let key = |e: super::jwt::KeyError| AuthConfigError::Key(e.to_string());
    let mut verifier = JwtVerifier::new(issuer, args.jwt_audience.clone(), args.jwt_leeway_seconds);
    if let Some(path) = &args.jwt_hs256_secret_file {
        let secret = std::fs::read(path)
            .map_err(|e| AuthConfigError::Key(format!("{}: {e}", path.display())))?;
        let secret = secret.trim_ascii();
        if secret.len() < 32 {
            return Err(AuthConfigError::ShortSecret);
        }
        verifier = verifier.with_secret(secret).map_err(AuthConfigError::Key)?;
    }
    if let Some(path) = &args.jwt_rs256_public_key {
        verifier = verifier
            .with_public_pem(Algorithm::RS256, path)
            .map_err(key)?;
    }
    if let Some(path) = &args.jwt_es256_public_key {
        verifier = verifier
            .with_public_pem(Algorithm::ES256, path)
            .map_err(key)?;
    }
    if let Some(path) = &args.jwt_jwks {
        verifier = verifier.with_jwks(path).map_err(key)?;
    }
    Ok(Some(verifier))
}

fn bearer(headers: &header::HeaderMap) -> Result<&str, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated(
            "send `Authorization: Bearer <token>` (a JWT or an API token from `ercs token create`); \
             a browser's EventSource opens the feed with `?ticket=` from POST /api/v1/feed/tickets",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(unauthenticated(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// The 401: problem+json, with `WWW-Authenticate: Bearer` (added by the guard).
pub fn unauthenticated(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Unauthenticated",
        detail,
    )
    .with_field("Authorization")
}
