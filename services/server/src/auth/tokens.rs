//! Opaque API tokens for machines (a hospital's bed-reporting system, a depot's
//! WMS): created and revoked with `ercs token …`, kept in the log.
//!
//! A token reads `ercs_<id>_<secret>`. Its stream `token-<id>` holds the
//! principal it names and the SHA-256 digest of the whole token, never the
//! token itself, so a copy of the log lets nobody in; and because it is in the
//! log, every replica on a shared store sees a token and its revocation at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ercs_eventlog::{
    Direction, EventData, EventLog, ExpectedRevision, Filter, JsonObject, ReadFrom, RecordedEvent,
    StreamName,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::principal::{Jurisdiction, Principal, Role};

const PREFIX: &str = "ercs_";
const CREATED: &str = "ApiTokenCreated";
const REVOKED: &str = "ApiTokenRevoked";

/// What a token's stream says of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub token_id: Uuid,
    /// SHA-256 of the whole token, hex.
    pub digest: String,
    pub principal: Principal,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Revoked {
    token_id: Uuid,
    revoked_at: DateTime<Utc>,
}

/// The tokens kept in one log.
#[derive(Clone)]
pub struct ApiTokens {
    log: Arc<dyn EventLog>,
    /// Bumped at each revocation this process makes, so the feeds open on API
    /// tokens look at once (see `super::lasting`).
    revoked: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Log(#[from] ercs_eventlog::Error),
    #[error("no API token with id `{0}`")]
    Unknown(Uuid),
    #[error("API token `{0}` is already revoked")]
    AlreadyRevoked(Uuid),
}

impl ApiTokens {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self {
            log,
            revoked: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Changes at each revocation this process makes.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revoked.subscribe()
    }

    /// Whether token `token_id` exists and is not revoked.
    pub async fn is_live(&self, token_id: Uuid) -> Result<bool, TokenError> {
        Ok(self
            .record(token_id)
            .await?
            .is_some_and(|record| record.revoked_at.is_none()))
    }

    /// Whether `bearer` has the shape of an API token rather than a JWT.
    pub fn is_api_token(bearer: &str) -> bool {
        bearer.starts_with(PREFIX)
    }

    /// Creates a token for `principal`, on the word of `by` (an admin over
    /// HTTP, in the request with that id; `None`: the `ercs token` command
    /// line); the plaintext is returned once and kept nowhere.
    pub async fn create(
        &self,
        principal: Principal,
        by: Option<(&Principal, Uuid)>,
    ) -> Result<(String, TokenRecord), TokenError> {
        let (token_id, plaintext) = mint(PREFIX);
        let record = TokenRecord {
            token_id,
            digest: digest(&plaintext),
            principal,
            created_at: Utc::now(),
            revoked_at: None,
        };
        self.append(token_id, CREATED, &record, by, ExpectedRevision::NoStream)
            .await?;
        Ok((plaintext, record))
    }

    /// Revokes token `id` on the word of `by`: from the next request on, it is refused.
    pub async fn revoke(
        &self,
        token_id: Uuid,
        by: Option<(&Principal, Uuid)>,
    ) -> Result<TokenRecord, TokenError> {
        let mut record = self
            .record(token_id)
            .await?
            .ok_or(TokenError::Unknown(token_id))?;
        if record.revoked_at.is_some() {
            return Err(TokenError::AlreadyRevoked(token_id));
        }
        let revoked = Revoked {
            token_id,
            revoked_at: Utc::now(),
        };
        self.append(token_id, REVOKED, &revoked, by, ExpectedRevision::Exact(0))
            .await?;
        self.revoked.send_modify(|count| *count += 1);
        record.revoked_at = Some(revoked.revoked_at);
        Ok(record)
    }

    /// Every token ever created, revoked ones included, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        let events = self
            .log
            .read_all(
                ReadFrom::Start,
                Direction::Forwards,
                &Filter::stream_prefix("token-"),
                usize::MAX,
            )
            .await?;
        let mut records: Vec<TokenRecord> = Vec::new();
        for event in &events {
            fold(&mut records, event);
        }
        Ok(records)
    }

    /// The principal `bearer` names and the token's id, if it is a live token
    /// of this log.
    pub async fn authenticate(
        &self,
        bearer: &str,
    ) -> Result<Option<(Principal, Uuid)>, TokenError> {
        let Some(token_id) = token_id(bearer) else {
            return Ok(None);
        };
        let Some(record) = self.record(token_id).await? else {
            return Ok(None);
        };
        let matches = record.digest == digest(bearer);
        Ok((matches && record.revoked_at.is_none()).then_some((record.principal, token_id)))
    }

    async fn record(&self, token_id: Uuid) -> Result<Option<TokenRecord>, TokenError> {
        let events = self
            .log
            .read_stream(&stream(token_id)?, ReadFrom::Start, Direction::Forwards, 8)
            .await?;
        let mut records = Vec::new();
        for event in &events {
            fold(&mut records, event);
        }
        Ok(records.pop())
    }

    async fn append(
        &self,
        token_id: Uuid,
        event_type: &str,
        data: &impl Serialize,
        by: Option<(&Principal, Uuid)>,
        expected: ExpectedRevision,
    ) -> Result<(), TokenError> {
        let metadata = match by {
            Some((admin, request_id)) => ercs_commands::Metadata::new(admin.name.clone())
                .with_authenticated(admin.audited(), request_id),
            None => ercs_commands::Metadata::new("ercs token"),
        };
        let event = event(event_type, data, &metadata)?;
        self.log
            .append(&stream(token_id)?, expected, vec![event])
            .await?;
        Ok(())
    }
}

/// A new event of `event_type` with `data` and `metadata`.
pub(super) fn event(
    event_type: &str,
    data: &impl Serialize,
    metadata: &ercs_commands::Metadata,
) -> Result<EventData, ercs_eventlog::Error> {
    let invalid = |field| move |reason| ercs_eventlog::Error::InvalidJson { field, reason };
    let data = JsonObject::from_serialize(data).map_err(invalid("data"))?;
    let metadata = JsonObject::from_serialize(metadata).map_err(invalid("metadata"))?;
    EventData::from_json(Uuid::new_v4(), event_type, data.as_str(), metadata.as_str())
}

/// The principal a new token names, each part checked; `Err` names the part
/// at fault (`subject`, `name`, `role`, `jurisdiction`) and why.
pub fn principal(
    subject: &str,
    name: &str,
    role: &str,
    jurisdiction: &str,
) -> Result<Principal, (&'static str, String)> {
    if subject.trim().is_empty() {
        return Err(("subject", "must not be empty".into()));
    }
    if name.trim().is_empty() {
        return Err((
            "name",
            "must not be empty (the name a person reads, e.g. 万州区卫健委值班员)".into(),
        ));
    }
    let role = Role::parse(role).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        (
            "role",
            format!("`{role}` is not one of {}", roles.join(", ")),
        )
    })?;
    let code = jurisdiction
        .parse()
        .map_err(|e| ("jurisdiction", format!("`{jurisdiction}`: {e}")))?;
    let areas = ercs_seed::chongqing::geography()
        .and_then(|g| g.hierarchy())
        .map_err(|e| ("jurisdiction", e.to_string()))?;
    if areas.get(&code).is_none() {
        return Err((
            "jurisdiction",
            format!("`{jurisdiction}` is not an area of the city's tree"),
        ));
    }
    Ok(Principal {
        subject: subject.to_owned(),
        name: name.to_owned(),
        role,
        jurisdiction: Jurisdiction(code),
    })
}

/// One line of `ercs token list`.
pub fn describe(record: &TokenRecord) -> String {
    let p = &record.principal;
    let state = match record.revoked_at {
        Some(at) => format!("revoked {}", at.to_rfc3339()),
        None => "active".to_owned(),
    };
    format!(
        "{}  {}  {}  {}  {}  created {}  {state}",
        record.token_id,
        p.subject,
        p.name,
        p.role,
        p.jurisdiction,
        record.created_at.to_rfc3339()
    )
}

fn stream(token_id: Uuid) -> Result<StreamName, ercs_eventlog::Error> {
    StreamName::new(format!("token-{token_id}"))
}

fn token_id(bearer: &str) -> Option<Uuid> {
    id_of(PREFIX, bearer)
}

/// A new secret that reads `<prefix><id>_<secret>`, and its id.
pub(super) fn mint(prefix: &str) -> (Uuid, String) {
    let id = Uuid::new_v4();
    // Two v4 UUIDs: 244 random bits from the operating system's generator.
    let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    (id, format!("{prefix}{}_{secret}", id.simple()))
}

/// The id of a secret [`mint`]ed with `prefix`, if `raw` has that shape.
pub(super) fn id_of(prefix: &str, raw: &str) -> Option<Uuid> {
    let rest = raw.strip_prefix(prefix)?;
    let (id, secret) = rest.split_once('_')?;
    (secret.len() == 64).then_some(())?;
    Uuid::try_parse(id).ok()
}

/// SHA-256 of a secret, hex: all the log keeps of it.
pub(super) fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn fold(records: &mut Vec<TokenRecord>, event: &RecordedEvent) {
    match event.event_type.as_str() {
        CREATED => {
            if let Ok(record) = event.data.deserialize::<TokenRecord>() {
                records.push(record);
            }
        }
        REVOKED => {
            if let Ok(revoked) = event.data.deserialize::<Revoked>()
                && let Some(record) = records.iter_mut().find(|r| r.token_id == revoked.token_id)
            {
                record.revoked_at = Some(revoked.revoked_at);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_ercs_id_secret_names_a_token() {
        let id = Uuid::new_v4();
        let good = format!("ercs_{}_{}", id.simple(), "a".repeat(64));
        assert_eq!(token_id(&good), Some(id));
        assert_eq!(token_id(&format!("ercs_{}_short", id.simple())), None);
        assert_eq!(token_id("eyJhbGciOiJIUzI1NiJ9.e30.x"), None);
    }

    #[test]
    fn the_digest_is_sha_256_in_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
