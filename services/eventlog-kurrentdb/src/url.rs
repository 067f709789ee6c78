//! Connection strings: `kurrentdb://host:2113?tls=false` for one node,
//! `kurrentdb://node1:2113,node2:2113,node3:2113` for a cluster by its gossip seeds,
//! `kurrentdb+discover://cluster.example:2113` for a cluster found through DNS.
//!
//! The official client parses them; ERCS checks more before it does, because the
//! client ignores what it does not know (a typo such as `?tsl=false` would silently
//! leave TLS on) and quotes the whole string, password included, in its errors.

use std::fmt;
use std::str::FromStr;

use kurrentdb::ClientSettings;

/// The schemes ERCS accepts: KurrentDB's own and the EventStoreDB ones it still reads.
pub const SCHEMES: [&str; 4] = ["kurrentdb", "kurrentdb+discover", "esdb", "esdb+discover"];

/// The query parameters the client understands (lower-cased; the client ignores case).
const PARAMETERS: [&str; 13] = [
    "maxdiscoverattempts",
    "discoveryinterval",
    "gossiptimeout",
    "tls",
    "tlsverifycert",
    "nodepreference",
    "keepaliveinterval",
    "keepalivetimeout",
    "defaultdeadline",
    "connectionname",
    "usercertfile",
    "userkeyfile",
    "tlscafile",
];

/// A checked KurrentDB connection string and the client settings it gives.
#[derive(Clone)]
pub struct KurrentUrl {
    text: String,
    settings: ClientSettings,
}

/// Why a connection string is refused: the rule it breaks, never its password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("KurrentDB connection string {shown}: {reason}")]
pub struct UrlError {
    /// The string as given, its password hidden.
    pub shown: String,
    pub reason: String,
}

impl KurrentUrl {
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        let refuse = |reason: String| UrlError {
            shown: redact(text),
            reason,
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(refuse(format!(
                "must start with {}",
                SCHEMES.map(|s| format!("{s}://")).join(", ")
            )));
        };
        if !SCHEMES.contains(&scheme) {
            return Err(refuse(format!(
                "scheme {scheme}:// is not one of {}",
                SCHEMES.map(|s| format!("{s}://")).join(", ")
            )));
        }
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let hosts = hosts.strip_suffix('/').unwrap_or(hosts);
        if hosts.is_empty() || hosts.split(',').any(str::is_empty) {
            return Err(refuse("names no host (e.g. kurrentdb://node1:2113)".into()));
        }
        if hosts.contains('/') {
            return Err(refuse(
                "has a path; a KurrentDB connection string ends with host:port and ?parameters"
                    .into(),
            ));
        }
        if scheme.ends_with("+discover") && hosts.contains(',') {
            return Err(refuse(
                "+discover names one DNS name to discover the cluster by, not a list of nodes"
                    .into(),
            ));
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !PARAMETERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(refuse(format!(
                    "has an unknown parameter {name:?} (known: tls, tlsVerifyCert, tlsCaFile, \
                     nodePreference, defaultDeadline, maxDiscoverAttempts, …)"
                )));
            }
            let boolean =
                name.eq_ignore_ascii_case("tls") || name.eq_ignore_ascii_case("tlsverifycert");
            if boolean && !matches!(value, "true" | "false") {
                return Err(refuse(format!(
                    "{name} must be true or false, not {value:?}"
                )));
            }
        }
        let settings = ClientSettings::from_str(text)
            .map_err(|e| refuse(e.message().replace(text, "(the string)")))?;
        Ok(Self {
            text: text.to_owned(),
            settings,
        })
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// Whether the client speaks TLS to the nodes (KurrentDB's default; `?tls=false`
    /// for a node started with `--insecure`).
    pub fn is_tls(&self) -> bool {
        self.settings.is_secure_mode_enabled()
    }

    /// Whether the nodes are a cluster (several gossip seeds or DNS discovery).
    pub fn is_cluster(&self) -> bool {
        self.settings.is_dns_discovery_enabled() || self.settings.hosts().len() > 1
    }

    /// The nodes named (gossip seeds, or the one DNS name to discover by).
    pub fn hosts(&self) -> Vec<(String, u32)> {
        self.settings
            .hosts()
            .iter()
            .map(|e| (e.host.clone(), e.port))
            .collect()
    }

    /// The string exactly as given, password included: only for the client.
    pub fn as_secret_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for KurrentUrl {
    /// The string without its password, for logs and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.text))
    }
}

impl fmt::Debug for KurrentUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KurrentUrl({self})")
    }
}

impl FromStr for KurrentUrl {
    type Err = UrlError;
    fn from_str(text: &str) -> Result<Self, UrlError> {
        Self::parse(text)
    }
}

/// `scheme://user:password@hosts?…` → `scheme://user:…@hosts?…`.
pub fn redact(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let end = text[start..]
        .find(['?', '/'])
        .map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => {
            let user = text[start..start + at]
                .split_once(':')
                .map_or(&text[start..start + at], |(user, _)| user);
            format!("{}{user}:…{}", &text[..start], &text[start + at..])
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_insecure_node_is_one_host_without_tls() {
        let url = KurrentUrl::parse("kurrentdb://localhost:2113?tls=false").unwrap();
        assert!(!url.is_tls());
        assert!(!url.is_cluster());
        assert_eq!(url.hosts(), [("localhost".to_owned(), 2113)]);
    }

    #[test]
    fn tls_is_on_unless_turned_off() {
        let url = KurrentUrl::parse("kurrentdb://admin:changeit@node1:2113").unwrap();
        assert!(url.is_tls());
        assert!(url.settings().is_tls_certificate_verification_enabled());
        let url = KurrentUrl::parse(
            "kurrentdb://node1:2113?tls=true&tlsVerifyCert=false&tlsCaFile=/etc/ercs/ca.crt",
        )
        .unwrap();
        assert!(url.is_tls());
        assert!(!url.settings().is_tls_certificate_verification_enabled());
        assert_eq!(
            url.settings().tls_ca_file().map(String::as_str),
            Some("/etc/ercs/ca.crt")
        );
    }

    #[test]
    fn a_cluster_is_its_gossip_seeds_or_a_dns_name() {
        let url = KurrentUrl::parse(
            "kurrentdb://admin:changeit@node1:2113,node2:2114,node3:2115?tls=true&nodePreference=leader",
        )
        .unwrap();
        assert!(url.is_cluster() && url.is_tls());
        assert_eq!(
            url.hosts(),
            [
                ("node1".to_owned(), 2113),
                ("node2".to_owned(), 2114),
                ("node3".to_owned(), 2115)
            ]
        );
        let url = KurrentUrl::parse("kurrentdb+discover://cluster.example:2113").unwrap();
        assert!(url.is_cluster());
        assert!(url.settings().is_dns_discovery_enabled());
        assert!(KurrentUrl::parse("esdb+discover://cluster.example:2113").is_ok());
    }

    #[test]
    fn a_typo_or_a_wrong_scheme_is_refused_naming_the_rule() {
        for (bad, rule) in [
            (
                "kurrentdb://node1:2113?tsl=false",
                "unknown parameter \"tsl\"",
            ),
            ("kurrentdb://node1:2113?tls=no", "tls must be true or false"),
            ("kurrent://node1:2113", "is not one of"),
            ("http://node1:2113", "is not one of"),
            ("node1:2113", "must start with"),
            ("kurrentdb://", "names no host"),
            ("kurrentdb://node1:2113,,node2:2113", "names no host"),
            ("kurrentdb://node1:2113/ercs", "has a path"),
            (
                "kurrentdb+discover://a:2113,b:2113",
                "+discover names one DNS name",
            ),
            ("kurrentdb://node1:99999", ""),
        ] {
            let error = KurrentUrl::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(error.reason.contains(rule), "{bad}: {error}");
        }
    }

    #[test]
    fn no_message_shows_the_password() {
        let text = "kurrentdb://admin:s3cret@node1:2113,node2:2113?tls=true";
        let url = KurrentUrl::parse(text).unwrap();
        assert_eq!(
            url.to_string(),
            "kurrentdb://admin:…@node1:2113,node2:2113?tls=true"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = KurrentUrl::parse("kurrentdb://admin:s3cret@node1:2113?tls=maybe").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        let error = KurrentUrl::parse("kurrentdb://admin:s3cret@node1:x,node2:2113").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(redact("kurrentdb://node1:2113"), "kurrentdb://node1:2113");
    }
}
