//! Bearer JWTs: HS256, RS256 and ES256, verified by `jsonwebtoken` against the
//! keys the operator configured (PEM files, a shared secret file, or a JWKS file).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::principal::{Jurisdiction, Principal, Role};

/// The clock skew tolerated on `exp` and `nbf` by default, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

/// The only algorithms accepted; anything else (`none`, `HS512`, ...) is refused
/// before a key is looked at.
const ACCEPTED: [Algorithm; 3] = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];

/// One verification key.
struct Key {
    /// The JWKS `kid`, when the key came from a JWKS file.
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Checks a JWT's signature and claims.
pub struct JwtVerifier {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
    leeway: u64,
    /// Tokens this verifier has accepted, with the principal each names and
    /// the seconds within which it stays valid: a dispatcher's client sends
    /// the same token with every request, and checking its signature and
    /// claims each time was 4 % of the server's CPU under mixed load. Only
    /// accepted tokens are kept (a refused one costs its sender a full check
    /// every time), at most [`VERIFIED_TOKENS`]; the keys never change while
    /// the service runs, so what was accepted stays accepted until `exp`.
    verified: Mutex<HashMap<Box<str>, Verified>>,
}

/// Most accepted tokens remembered; past it the memory starts afresh.
const VERIFIED_TOKENS: usize = 4096;

/// An accepted token: its principal and the Unix seconds `[from, until]` in
/// which it is valid, leeway included.
#[derive(Clone)]
struct Verified {
    principal: Principal,
    from: u64,
    until: u64,
}

/// Why a configured key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct KeyError {
    pub path: String,
    pub why: String,
}

/// The claims ERCS reads; `exp`, `nbf`, `iss` and `aud` are checked by the
/// library.
#[derive(Debug, Deserialize)]
struct Claims {
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    sub: String,
    name: Option<String>,
    role: String,
    jurisdiction: String,
}

/// Why a bearer token was refused (the 401's detail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token's issuer is not the one configured")]
    Issuer,
    #[error("the token's audience is not this service")]
    Audience,
    #[error("the token's algorithm is not accepted (HS256, RS256 or ES256 only)")]
    Algorithm,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token names {0}")]
    Claims(String),
    #[error("the API token is unknown or revoked")]
    Revoked,
}

impl JwtVerifier {
    pub fn new(issuer: String, audience: String, leeway: u64) -> Self {
        Self {
            keys: Vec::new(),
            issuer,
            audience,
            leeway,
            verified: Mutex::default(),
        }
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Adds an HS256 shared secret.
    pub fn with_secret(mut self, secret: &[u8]) -> Result<Self, String> {
        let key = DecodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        self.keys.push(Key {
            kid: None,
            algorithm: Algorithm::HS256,
            key,
        });
        Ok(self)
    }

    /// Adds an RS256 or ES256 public key in PEM form.
    pub fn with_public_pem(mut self, algorithm: Algorithm, path: &Path) -> Result<Self, KeyError> {
        let bad = |why: String| KeyError {
            path: path.display().to_string(),
            why,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let key = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
            _ => DecodingKey::from_ec_pem(&pem),
        }
        .map_err(|e| bad(format!("not a {algorithm:?} public key in PEM form: {e}")))?;
        self.keys.push(Key {
            kid: None,
            algorithm,
            key,
        });
        Ok(self)
    }

    /// Adds every RS256 and ES256 key of a JWKS file.
    pub fn with_jwks(mut self, path: &Path) -> Result<Self, KeyError> {
        let bad = |why: String| KeyError {
            path: path.display().to_string(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        for jwk in &set.keys {
            let algorithm = match jwk.common.key_algorithm.map(|a| a.to_string()).as_deref() {
                Some("RS256") => Algorithm::RS256,
                Some("ES256") => Algorithm::ES256,
                other => return Err(bad(format!("key algorithm {other:?}: RS256 or ES256 only"))),
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(e.to_string()))?;
            self.keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            });
        }
        Ok(self)
    }

    /// The principal a valid token names.
    pub fn verify(&self, token: &str) -> Result<Principal, Refused> {
        self.verify_until(token).map(|(principal, _)| principal)
    }

    /// The principal a valid token names, and the Unix second after which it
    /// is refused (its `exp` plus the leeway).
    pub fn verify_until(&self, token: &str) -> Result<(Principal, u64), Refused> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`verify_until`](Self::verify_until) at Unix second `now`: a token
    /// accepted before is judged on its remembered validity alone.
    fn verify_at(&self, token: &str, now: u64) -> Result<(Principal, u64), Refused> {
        let remembered = self.lock_verified().get(token).cloned();
        if let Some(known) = remembered {
            return match now {
                now if now > known.until => Err(Refused::Expired),
                now if now < known.from => Err(Refused::NotYetValid),
                _ => Ok((known.principal, known.until)),
            };
        }
        let known = self.check(token)?;
        let mut verified = self.lock_verified();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(token.into(), known.clone());
        Ok((known.principal, known.until))
    }

    fn lock_verified(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Verified>> {
        self.verified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The full check: header, signature under one of the keys, claims.
    fn check(&self, token: &str) -> Result<Verified, Refused> {
        let header = decode_header(token).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName => Refused::Algorithm,
            _ => Refused::Malformed(e.to_string()),
        })?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(Refused::Algorithm);
        }
        let candidates = self.keys.iter().filter(|key| {
            key.algorithm == header.alg
                && (header.kid.is_none() || key.kid.is_none() || key.kid == header.kid)
        });
        let mut refused = Refused::Signature;
        for key in candidates {
            match decode::<Claims>(token, &key.key, &self.validation(header.alg)) {
                Ok(data) => {
                    let (nbf, exp) = (data.claims.nbf.unwrap_or(0), data.claims.exp);
                    return Ok(Verified {
                        principal: principal(data.claims)?,
                        from: nbf.saturating_sub(self.leeway),
                        until: exp.saturating_add(self.leeway),
                    });
                }
                Err(error) => refused = classify(&error),
            }
            if refused != Refused::Signature {
                break;
            }
        }
        Err(refused)
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation
    }
}

fn classify(error: &jsonwebtoken::errors::Error) -> Refused {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => Refused::Expired,
        ErrorKind::ImmatureSignature => Refused::NotYetValid,
        ErrorKind::InvalidSignature => Refused::Signature,
        ErrorKind::InvalidIssuer => Refused::Issuer,
        ErrorKind::InvalidAudience => Refused::Audience,
        ErrorKind::InvalidAlgorithm => Refused::Algorithm,
        other => Refused::Malformed(format!("{other:?}")),
    }
}

fn principal(claims: Claims) -> Result<Principal, Refused> {
    let role = Role::parse(&claims.role)
        .ok_or_else(|| Refused::Claims(format!("an unknown role `{}`", claims.role)))?;
    let jurisdiction = claims.jurisdiction.parse().map_err(|_| {
        Refused::Claims(format!(
            "a jurisdiction `{}` that is not a division code or region",
            claims.jurisdiction
        ))
    })?;
    Ok(Principal {
        name: claims.name.unwrap_or_else(|| claims.sub.clone()),
        subject: claims.sub,
        role,
        jurisdiction: Jurisdiction(jurisdiction),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &[u8] = b"a secret for these tests alone, thirty-two bytes or more";

    fn token(secret: &[u8], exp: u64) -> String {
        let claims = serde_json::json!({
            "sub": "wanzhou-duty", "name": "万州区卫健委值班员", "role": "district_dispatcher",
            "jurisdiction": "500101", "iss": "ercs-test", "aud": "ercs", "exp": exp,
        });
        let key = EncodingKey::from_secret(secret).unwrap();
        encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    fn verifier(leeway: u64) -> JwtVerifier {
        JwtVerifier::new("ercs-test".into(), "ercs".into(), leeway)
            .with_secret(SECRET)
            .unwrap()
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_it_expires() {
        let now = jsonwebtoken::get_current_timestamp();
        let verifier = verifier(5);
        let token = token(SECRET, now + 60);
        let verified = verifier.verify_at(&token, now).unwrap();
        assert_eq!(verified.0.name, "万州区卫健委值班员");
        assert_eq!(verified.1, now + 65, "exp and the leeway");
        assert_eq!(verifier.verify_at(&token, now + 65).unwrap(), verified);
        assert_eq!(verifier.verify_at(&token, now + 66), Err(Refused::Expired));
        assert_eq!(verifier.verify_at(&token, now + 1).unwrap(), verified);
    }

    #[test]
    fn a_refused_token_is_not_remembered() {
        let now = jsonwebtoken::get_current_timestamp();
        let verifier = verifier(0);
        let forged = token(
            b"someone else's secret, also thirty-two bytes long",
            now + 60,
        );
        for _ in 0..2 {
            assert_eq!(verifier.verify(&forged), Err(Refused::Signature));
        }
        assert!(verifier.lock_verified().is_empty());
    }
}
