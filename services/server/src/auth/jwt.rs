//! Bearer JWTs: HS256, RS256 and ES256, verified by `jsonwebtoken` against the
//! keys the operator configured (PEM files, a shared secret file, or a JWKS file).

use std::path::Path;

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
                Ok(data) => return principal(data.claims),
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
