//! How long what a request authenticated with lasts, and a feed that lasts no
//! longer.
//!
//! A request is admitted on a credential that holds at that moment; most end
//! within it. A feed connection does not: it may stay open for days. So the
//! guard records the request's [`Credential`] beside its principal, and the
//! feed ends — with a last `event: closed` frame saying why — when the
//! credential does: a JWT at its `exp` (plus the clock leeway), an API token
//! when it is revoked. A feed opened with a ticket lasts as long as the
//! credential the ticket was asked with.
//!
//! A revocation made through this process ends its feeds at once; one made
//! elsewhere (another replica on a shared store) within [`CHECK_EVERY`], when
//! each feed on an API token reads its record again. A feed that cannot read
//! the record (the store briefly unreachable) goes on and reads again later:
//! a read error is not a revocation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use futures::Stream;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tokens::ApiTokens;

/// How often a feed on an API token reads whether it was revoked elsewhere.
pub const CHECK_EVERY: Duration = Duration::from_secs(15);

/// What a request was authenticated with, as far as its lifetime goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// An API token: good until revoked.
    ApiToken { token_id: Uuid },
    /// A JWT: good until its `exp`, leeway included.
    Until { until: DateTime<Utc> },
}

/// The credential the guard admitted `request` on.
pub fn credential_of(request: &HttpRequest) -> Option<Credential> {
    request.extensions().get::<Credential>().copied()
}

/// `frames`, until `credential` ends: then one `event: closed` frame, and the end.
pub fn lasting(
    frames: BoxStream<'static, Bytes>,
    tokens: ApiTokens,
    credential: Credential,
) -> Lasting {
    Lasting {
        frames,
        ended: Some(Box::pin(ended(tokens, credential))),
    }
}

/// A feed's frames that stop when its credential does.
pub struct Lasting {
    frames: BoxStream<'static, Bytes>,
    /// The last frame, once the credential ended; `None` after it was sent.
    ended: Option<Pin<Box<dyn Future<Output = Bytes> + Send>>>,
}

impl Stream for Lasting {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        let Some(ended) = this.ended.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(last) = ended.as_mut().poll(cx) {
            this.ended = None;
            return Poll::Ready(Some(last));
        }
        this.frames.as_mut().poll_next(cx)
    }
}

/// Resolves, with the feed's last frame, when `credential` no longer holds.
async fn ended(tokens: ApiTokens, credential: Credential) -> Bytes {
    let reason = match credential {
        Credential::Until { until } => {
            // In steps: a timer far in the future is clamped by the runtime.
            while let Ok(left) = (until - Utc::now()).to_std() {
                tokio::time::sleep(left.min(Duration::from_secs(86_400))).await;
            }
            format!("the token expired at {}", until.to_rfc3339())
        }
        Credential::ApiToken { token_id } => {
            let mut revocations = tokens.revocations();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(CHECK_EVERY) => {}
                    changed = revocations.changed() => {
                        if changed.is_err() {
                            // Nothing more to hear from this process: the timer alone.
                            tokio::time::sleep(CHECK_EVERY).await;
                        }
                    }
                }
                match tokens.is_live(token_id).await {
                    Ok(false) => break format!("API token {token_id} was revoked"),
                    Ok(true) => {}
                    Err(error) => {
                        tracing::warn!(%token_id, %error, "cannot read whether a feed's API token was revoked; reading again later");
                    }
                }
            }
        }
    };
    closed_frame(&reason)
}

fn closed_frame(reason: &str) -> Bytes {
    let data = serde_json::json!({
        "reason": reason,
        "action": "authenticate again: a valid token, or a new ticket, opens a new feed \
                   (resume with last_event_id)",
    });
    Bytes::from(format!("event: closed\ndata: {data}\n\n"))
}
