//! Feed tickets: how a browser's `EventSource`, which cannot send an
//! `Authorization` header, follows the feed without a long-lived token in a URL.
//!
//! A page holding a token asks `POST /api/v1/feed/tickets` and opens
//! `GET /api/v1/feed?ticket=…`. A ticket names the principal that asked for it,
//! opens **one** feed connection, and only within a minute ([`TICKET_SECONDS`],
//! `--feed-ticket-seconds`) of being issued; a reconnecting page asks for a new one and resumes with
//! `last_event_id`. Like API tokens, tickets live in the log (stream
//! `feedticket-<id>`, the ticket's SHA-256 digest only), so a ticket issued by
//! one replica opens a feed at another, and the redemption is an append at
//! revision 0: of two connections racing with one ticket, exactly one opens,
//! whichever replica each reaches. A ticket keeps the credential it was asked
//! with, and the feed it opens lasts no longer than that (see `super::lasting`).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ercs_eventlog::{Direction, EventLog, ExpectedRevision, ReadFrom, StreamName};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lasting::Credential;
use super::principal::Principal;
use super::tokens::{digest, event, id_of, mint};

/// How long a ticket may wait to be used, unless configured.
pub const TICKET_SECONDS: u32 = 60;

const PREFIX: &str = "ercs-ticket_";
const ISSUED: &str = "FeedTicketIssued";
const REDEEMED: &str = "FeedTicketRedeemed";

/// A ticket as issued: the plaintext is shown once and kept nowhere.
/// (Schema `FeedTicket` in `crate::openapi`.)
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    /// Pass as `?ticket=` to `GET /api/v1/feed`, once, before `expires_at`.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
    /// The feed's URL with this ticket, to hand to `new EventSource(…)`; add the
    /// feed's other parameters (`collection`, `area`, `last_event_id`…).
    pub feed: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    ticket_id: Uuid,
    /// SHA-256 of the whole ticket, hex.
    digest: String,
    principal: Principal,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// What the ticket was asked with. A ticket issued before this was kept
    /// has none, and its feed lasts until the ticket's own expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asked_with: Option<Credential>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Redeemed {
    ticket_id: Uuid,
    redeemed_at: DateTime<Utc>,
}

/// Why a ticket opens nothing: said in the 401.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the ticket is not one this service issued")]
    Unknown,
    #[error("the ticket expired at {0}; ask POST /api/v1/feed/tickets for a new one")]
    Expired(DateTime<Utc>),
    #[error(
        "the ticket has already opened a feed; each opens one: ask POST /api/v1/feed/tickets \
         for a new one and resume with last_event_id"
    )]
    Used,
    #[error(transparent)]
    Log(#[from] ercs_eventlog::Error),
}

/// The tickets kept in one log.
#[derive(Clone)]
pub struct FeedTickets {
    log: Arc<dyn EventLog>,
    lifetime: Duration,
}

impl FeedTickets {
    /// Tickets that may wait `seconds` to be used.
    pub fn new(log: Arc<dyn EventLog>, seconds: u32) -> Self {
        Self {
            log,
            lifetime: Duration::seconds(i64::from(seconds)),
        }
    }

    /// Whether `raw` has the shape of a ticket.
    pub fn is_ticket(raw: &str) -> bool {
        raw.starts_with(PREFIX)
    }

    /// Issues a ticket that opens one feed as `principal`, for as long as
    /// `asked_with` lasts.
    pub async fn issue(
        &self,
        principal: Principal,
        asked_with: Option<Credential>,
        request_id: Uuid,
    ) -> Result<Issued, ercs_eventlog::Error> {
        let (ticket_id, ticket) = mint(PREFIX);
        let issued_at = Utc::now();
        let expires_at = issued_at + self.lifetime;
        let record = Record {
            ticket_id,
            digest: digest(&ticket),
            principal: principal.clone(),
            issued_at,
            expires_at,
            asked_with,
        };
        self.append(
            ticket_id,
            ISSUED,
            &record,
            &principal,
            request_id,
            ExpectedRevision::NoStream,
        )
        .await?;
        let feed = format!("/api/v1/feed?ticket={ticket}");
        Ok(Issued {
            ticket,
            expires_at,
            feed,
        })
    }

    /// The principal of `ticket`, which from now on opens nothing more, and
    /// how long the feed it opens lasts.
    pub async fn redeem(
        &self,
        ticket: &str,
        request_id: Uuid,
    ) -> Result<(Principal, Credential), Refused> {
        let ticket_id = ticket_id(ticket).ok_or(Refused::Unknown)?;
        let events = self
            .log
            .read_stream(&stream(ticket_id)?, ReadFrom::Start, Direction::Forwards, 2)
            .await?;
        let record = events
            .first()
            .filter(|event| event.event_type.as_str() == ISSUED)
            .and_then(|event| event.data.deserialize::<Record>().ok())
            .filter(|record| record.digest == digest(ticket))
            .ok_or(Refused::Unknown)?;
        if events.len() > 1 {
            return Err(Refused::Used);
        }
        let now = Utc::now();
        if now > record.expires_at {
            return Err(Refused::Expired(record.expires_at));
        }
        let redeemed = Redeemed {
            ticket_id,
            redeemed_at: now,
        };
        match self
            .append(
                ticket_id,
                REDEEMED,
                &redeemed,
                &record.principal,
                request_id,
                ExpectedRevision::Exact(0),
            )
            .await
        {
            Ok(()) => {
                let lasts = record.asked_with.unwrap_or(Credential::Until {
                    until: record.expires_at,
                });
                Ok((record.principal, lasts))
            }
            // Another connection redeemed it first, here or at another replica.
            Err(ercs_eventlog::Error::WrongExpectedRevision { .. }) => Err(Refused::Used),
            Err(error) => Err(error.into()),
        }
    }

    async fn append(
        &self,
        ticket_id: Uuid,
        event_type: &str,
        data: &impl Serialize,
        principal: &Principal,
        request_id: Uuid,
        expected: ExpectedRevision,
    ) -> Result<(), ercs_eventlog::Error> {
        let metadata = ercs_commands::Metadata::new(principal.name.clone())
            .with_authenticated(principal.audited(), request_id);
        let event = event(event_type, data, &metadata)?;
        self.log
            .append(&stream(ticket_id)?, expected, vec![event])
            .await?;
        Ok(())
    }
}

fn stream(ticket_id: Uuid) -> Result<StreamName, ercs_eventlog::Error> {
    StreamName::new(format!("feedticket-{ticket_id}"))
}

fn ticket_id(ticket: &str) -> Option<Uuid> {
    id_of(PREFIX, ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_prefix_id_secret_names_a_ticket() {
        let id = Uuid::new_v4();
        let good = format!("{PREFIX}{}_{}", id.simple(), "a".repeat(64));
        assert!(FeedTickets::is_ticket(&good));
        assert_eq!(ticket_id(&good), Some(id));
        assert_eq!(ticket_id(&format!("{PREFIX}{}_short", id.simple())), None);
        assert_eq!(
            ticket_id(&format!("ercs_{}_{}", id.simple(), "a".repeat(64))),
            None
        );
    }
}
