//! What storage can fail with, typed: handlers match on the kind (and a conflict's
//! [`Rule`]), never on text, and [`From<StoreError> for ApiError`] is the one place that
//! turns a storage failure into a problem response.

use crate::error::ApiError;

/// A business rule a write would break. Each rule names the request field it concerns, so
/// the 409 points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A uniqueness constraint the database enforced (a race the checks before it lost).
    Unique,
    /// A person's e-mail address is unique in the network.
    EmailTaken,
    /// A SCIM user's `userName` is unique in its organisation, ignoring case.
    UserNameTaken,
    /// A SCIM group's `displayName` is unique in its organisation, ignoring case.
    GroupNameTaken,
    /// A theme's slug is unique.
    SlugTaken,
    /// An organisation's enterprise number is unique.
    EnterpriseNumberTaken,
    /// An external reference names one resource in its scope.
    ReferenceTaken,
    /// A by-reference write names a membership of another person.
    ReferenceOfAnotherPerson,
    /// The object is still used by others (a theme, an organisation with members or events).
    InUse,
    /// A status may only move along its allowed transitions ("published stays published").
    StatusTransition,
    /// An event's capacity cannot go below the seats taken.
    Capacity,
    /// Only draft events are deleted; others are cancelled.
    NotDeletable,
    /// A registration's status does not allow the change.
    RegistrationState,
    /// Co-authorship: already a co-author, or the last one leaving.
    CoAuthor,
    /// Another write changed what this one depends on; read again and retry.
    ChangedMeanwhile,
    /// References of system `scim` are an identity provider's `externalId`s, written over
    /// SCIM only.
    ReservedSystem,
}

impl Rule {
    /// The JSON pointer of the request field the rule concerns.
    pub fn pointer(self) -> Option<&'static str> {
        match self {
            Rule::EmailTaken => Some("/email"),
            Rule::UserNameTaken => Some("/userName"),
            Rule::GroupNameTaken => Some("/displayName"),
            Rule::SlugTaken => Some("/slug"),
            Rule::EnterpriseNumberTaken => Some("/enterprise_number"),
            Rule::ReferenceOfAnotherPerson => Some("/person_id"),
            Rule::StatusTransition => Some("/status"),
            Rule::Capacity => Some("/capacity"),
            Rule::Unique
            | Rule::ReferenceTaken
            | Rule::InUse
            | Rule::NotDeletable
            | Rule::RegistrationState
            | Rule::CoAuthor
            | Rule::ChangedMeanwhile
            | Rule::ReservedSystem => None,
        }
    }
}

/// A broken rule and the sentence that tells the caller what to do about it.
#[derive(Debug)]
pub struct Conflict {
    pub rule: Rule,
    pub detail: String,
}

impl StoreError {
    /// A conflict with `rule`; `detail` is a full sentence for the caller.
    pub fn conflict(rule: Rule, detail: impl Into<String>) -> Self {
        StoreError::Conflict(Conflict { rule, detail: detail.into() })
    }
}

/// What storage can fail with, in terms the API can answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The write would break a business rule; which one is typed, with a sentence for the
    /// caller.
    #[error("conflict ({:?}): {}", .0.rule, .0.detail)]
    Conflict(Conflict),
    /// The caller may not make this change (found out inside the transaction).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The row changed since it was read (optimistic concurrency).
    #[error("version mismatch, current version is {current}")]
    VersionMismatch { current: i64 },
    /// The database is out of reach or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            // Out of reach: no connection to be had, or the one in use broke (reset, closed
            // mid-handshake by a proxy, TLS failing).
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            // What the row refers to is gone (deleted by a concurrent request).
            sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => StoreError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => StoreError::conflict(
                Rule::Unique,
                format!(
                    "This would break a uniqueness rule ({}).",
                    db.constraint().map_or_else(|| db.message().to_string(), String::from)
                ),
            ),
            // Busy or locked (SQLite), statement timeout, lock timeout, deadlock or
            // serialisation failure (PostgreSQL): transient, the client may retry.
            sqlx::Error::Database(ref db) if is_transient(db.code().as_deref()) => StoreError::Unavailable(e),
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("No such resource."),
            StoreError::Conflict(c) => ApiError::conflict(c.detail, c.rule.pointer()),
            StoreError::Forbidden(detail) => ApiError::Forbidden(detail),
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed { current_version: Some(current) },
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::ServiceUnavailable("The database is not reachable right now; retry shortly.".into())
            }
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// `Result` with the storage error as default error type.
pub type StoreResult<T> = Result<T, StoreError>;

/// Reading something that may not exist. Only `NotFound` becomes the caller's answer (or
/// `None`); every other failure passes on as itself, so a database outage answers 503.
/// Never `map_err(|_| ...)` a storage call: a lost connection would answer 404, and a client
/// would delete its copy of something that still exists.
pub trait Found<T> {
    /// `NotFound` answered as `missing()`.
    fn or_not_found(self, missing: impl FnOnce() -> ApiError) -> Result<T, ApiError>;
    /// `NotFound` as `None`.
    fn found(self) -> Result<Option<T>, ApiError>;
}

impl<T> Found<T> for StoreResult<T> {
    fn or_not_found(self, missing: impl FnOnce() -> ApiError) -> Result<T, ApiError> {
        self.map_err(|e| match e {
            StoreError::NotFound => missing(),
            other => other.into(),
        })
    }

    fn found(self) -> Result<Option<T>, ApiError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}

fn is_transient(code: Option<&str>) -> bool {
    match code {
        // PostgreSQL SQLSTATEs are five characters.
        Some("57014" | "55P03" | "40P01" | "40001") => true,
        Some(c) if c.len() == 5 => false,
        // SQLite (extended) result codes: SQLITE_BUSY and SQLITE_LOCKED families.
        Some(c) => c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)),
        None => false,
    }
}

/// Whether an error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
