use ercs_domain::DomainError;

/// Why embedded seed data could not be loaded. The data ships with the binary, so
/// any of these means the seed files were edited by hand and are broken.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file is not the JSON it should be, or a value in it breaks a domain rule.
    #[error("{file}: {source}")]
    Json {
        file: &'static str,
        source: serde_json::Error,
    },
    /// One row or feature is malformed.
    #[error("{file}: {at}: {reason}")]
    Malformed {
        file: &'static str,
        at: String,
        reason: String,
    },
    /// The files disagree with each other (e.g. a township names a missing county).
    #[error("{file}: {reason}")]
    Inconsistent { file: &'static str, reason: String },
    /// A value breaks a domain rule.
    #[error(transparent)]
    Domain(#[from] DomainError),
}
