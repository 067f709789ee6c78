//! Development mode's tokens: HS256 JWTs signed with a key that is public by
//! design (it is in this file), so a developer's tools and the tests can make
//! them. That is why development mode listens on loopback only and says so.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;

use super::principal::Role;

/// Known to everyone who reads the source: never a production key.
pub const SECRET: &[u8] =
    b"ercs-development-mode-only: this key is public; never use it in production";
pub const ISSUER: &str = "ercs-development";
pub const AUDIENCE: &str = "ercs";
/// Development tokens are good for thirty days.
const LIFETIME_SECONDS: u64 = 30 * 24 * 3600;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    name: &'a str,
    role: &'a str,
    jurisdiction: &'a str,
    iss: &'a str,
    aud: &'a str,
    exp: u64,
    nbf: u64,
    iat: u64,
}

/// One development account per role, over the whole city except the township
/// operator's (a township of 万州区) and the district dispatcher's (万州区).
pub fn account(role: Role) -> (&'static str, &'static str, &'static str) {
    match role {
        Role::CityCommander => ("dev-city-commander", "市级指挥（开发）", "500000"),
        Role::DistrictDispatcher => (
            "dev-district-dispatcher",
            "万州区卫健委值班员（开发）",
            "500101",
        ),
        Role::TownshipOperator => (
            "dev-township-operator",
            "高笋塘街道操作员（开发）",
            "500101001",
        ),
        Role::Viewer => ("dev-viewer", "资源可视化看板（开发）", "500000"),
        Role::DrillDirector => ("dev-drill-director", "演练导演（开发）", "500000"),
        Role::DrillPlayer => ("dev-drill-player", "演练参演人员（开发）", "500000"),
        Role::Admin => ("dev-admin", "系统管理员（开发）", "500000"),
    }
}

/// A development token for `role` (its [`account`]).
pub fn token(role: Role) -> String {
    let (subject, name, jurisdiction) = account(role);
    token_for(subject, name, role, jurisdiction)
}

/// A development token naming anyone.
pub fn token_for(subject: &str, name: &str, role: Role, jurisdiction: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: subject,
        name,
        role: role.as_str(),
        jurisdiction,
        iss: ISSUER,
        aud: AUDIENCE,
        exp: now + LIFETIME_SECONDS,
        nbf: now.saturating_sub(60),
        iat: now,
    };
    let key = EncodingKey::from_secret(SECRET).expect("an HMAC key of any length");
    encode(&Header::new(Algorithm::HS256), &claims, &key).expect("HS256 signing cannot fail")
}
