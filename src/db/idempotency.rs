//! Stored `Idempotency-Key`s and the responses they replay.

use chrono::Duration;
use uuid::Uuid;

use super::{Store, StoreResult, execute, now, on_pool};

/// The response first given to a request, replayed for its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What to do with a request that carries an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First time (or the earlier attempt expired or died): run it, then `complete` or
    /// `abandon` with this claim.
    Proceed { claim: Uuid },
    /// Seen and finished: answer with this.
    Replay(StoredResponse),
    /// Seen with a different request.
    Mismatch,
    /// Seen and still running.
    InFlight,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: Vec<u8>,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
}

impl Store {
    /// Claims `(owner, key)` for a request with hash `request_hash`. The claim is atomic in
    /// the database, so concurrent retries on several instances agree on one winner. An
    /// in-flight claim older than `lock` (its instance died) may be taken over by a retry
    /// of the same request.
    #[tracing::instrument(skip(self, request_hash))]
    pub async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        request_hash: &[u8],
        ttl: Duration,
        lock: Duration,
    ) -> StoreResult<Begin> {
        let at = now();
        let claim = Uuid::now_v7();
        let claimed: Option<String> = on_pool!(self.writer(), |p| {
            sqlx::query_scalar(
                "insert into idempotency_keys (owner, key, request_hash, created_at, locked_until, expires_at, claim)
                 values ($1, $2, $3, $4, $5, $6, $7)
                 on conflict (owner, key) do update
                 set request_hash = excluded.request_hash, response_status = null, response_headers = null,
                     response_body = null, created_at = excluded.created_at,
                     locked_until = excluded.locked_until, expires_at = excluded.expires_at, claim = excluded.claim
                 where idempotency_keys.expires_at < excluded.created_at
                    or (idempotency_keys.response_status is null
                        and idempotency_keys.locked_until < excluded.created_at
                        and idempotency_keys.request_hash = excluded.request_hash)
                 returning owner",
            )
            .bind(owner)
            .bind(key)
            .bind(request_hash)
            .bind(at)
            .bind(at + lock)
            .bind(at + ttl)
            .bind(claim)
            .fetch_optional(p)
            .await
        })?;
        if claimed.is_some() {
            return Ok(Begin::Proceed { claim });
        }
        let row: Option<KeyRow> = on_pool!(self.writer(), |p| {
            sqlx::query_as(
                "select request_hash, response_status, response_headers, response_body
                 from idempotency_keys where owner = $1 and key = $2",
            )
            .bind(owner)
            .bind(key)
            .fetch_optional(p)
            .await
        })?;
        let Some(row) = row else {
            // Deleted between the two statements (abandoned by a failed first attempt).
            return Ok(Begin::InFlight);
        };
        // An empty hash marks an answer scrubbed at an erasure: every request with the key
        // gets it (the hash of the first request held the erased person's data).
        if !row.request_hash.is_empty() && row.request_hash != request_hash {
            return Ok(Begin::Mismatch);
        }
        match row.response_status {
            None => Ok(Begin::InFlight),
            Some(status) => Ok(Begin::Replay(StoredResponse {
                status: u16::try_from(status).map_err(anyhow::Error::from)?,
                headers: serde_json::from_str(row.response_headers.as_deref().unwrap_or("[]"))
                    .map_err(anyhow::Error::from)?,
                body: row.response_body.unwrap_or_default(),
            })),
        }
    }

    /// Records the response to replay for `(owner, key)`, if `claim` still holds the key.
    #[tracing::instrument(skip(self, response))]
    pub async fn idempotency_complete(
        &self,
        owner: &str,
        key: &str,
        claim: Uuid,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let headers = serde_json::to_string(&response.headers).map_err(anyhow::Error::from)?;
        execute!(
            self.writer(),
            "update idempotency_keys set response_status = $3, response_headers = $4, response_body = $5
                 where owner = $1 and key = $2 and claim = $6",
            owner,
            key,
            i32::from(response.status),
            &headers,
            &response.body,
            claim
        )?;
        Ok(())
    }

    /// Forgets an unfinished claim, so that a retry runs the request again (after a 5xx).
    /// Only the request that holds the claim can forget it.
    #[tracing::instrument(skip(self))]
    pub async fn idempotency_abandon(&self, owner: &str, key: &str, claim: Uuid) -> StoreResult<()> {
        execute!(
            self.writer(),
            "delete from idempotency_keys where owner = $1 and key = $2 and claim = $3 and response_status is null",
            owner,
            key,
            claim
        )?;
        Ok(())
    }
}

/// What a retry with a stored key gets once the answer it would replay concerned a person
/// who has since been erased: a `410` that says so, and nothing of the first answer. Its
/// request hash is emptied too (the request held the person's data), so any request with
/// the key gets this answer.
fn erased_answer() -> (i32, String, Vec<u8>) {
    let problem = crate::error::ApiError::Gone(
        "This request was done, but its answer concerned a person who has since been erased; nothing of it is kept."
            .into(),
    )
    .problem();
    let problem = crate::error::Problem { instance: None, request_id: None, ..problem };
    let headers = serde_json::json!([["content-type", crate::error::PROBLEM_JSON]]).to_string();
    (410, headers, serde_json::to_vec(&problem).unwrap_or_default())
}

/// Scrubbing stored answers inside the erasing transaction.
#[allow(async_fn_in_trait)]
pub(crate) trait IdempotencyTx {
    /// Forgets every key of the person, and every key that names them (their id or e-mail
    /// address: some clients build keys from their data), and replaces every other caller's
    /// stored answer that names the person by [`erased_answer`]. Case is folded in SQL on
    /// both sides, as each database folds it.
    async fn forget_answers_about(&mut self, person: Uuid, email: &str) -> Result<u64, sqlx::Error>;
}

impl IdempotencyTx for sqlx::SqliteConnection {
    async fn forget_answers_about(&mut self, person: Uuid, email: &str) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "delete from idempotency_keys
             where owner = $1 or instr(lower(key), lower($2)) > 0 or instr(lower(key), lower($3)) > 0",
        )
        .bind(format!("person:{person}"))
        .bind(person.to_string())
        .bind(email)
        .execute(&mut *self)
        .await?;
        let (status, headers, body) = erased_answer();
        let n = sqlx::query(
            "update idempotency_keys set request_hash = x'', response_status = $3, response_headers = $4, response_body = $5
             where response_body is not null
               and (instr(lower(cast(response_body as text)), lower($1)) > 0
                    or instr(lower(cast(response_body as text)), lower($2)) > 0)",
        )
        .bind(person.to_string())
        .bind(email)
        .bind(status)
        .bind(headers)
        .bind(body)
        .execute(&mut *self)
        .await?;
        Ok(n.rows_affected())
    }
}

impl IdempotencyTx for sqlx::PgConnection {
    async fn forget_answers_about(&mut self, person: Uuid, email: &str) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "delete from idempotency_keys
             where owner = $1 or strpos(lower(key), lower($2)) > 0 or strpos(lower(key), lower($3)) > 0",
        )
        .bind(format!("person:{person}"))
        .bind(person.to_string())
        .bind(email)
        .execute(&mut *self)
        .await?;
        let (status, headers, body) = erased_answer();
        // Stored answers are the service's own JSON: always valid UTF-8.
        let n = sqlx::query(
            "update idempotency_keys set request_hash = '\\x'::bytea, response_status = $3, response_headers = $4,
                 response_body = $5
             where response_body is not null
               and (strpos(lower(convert_from(response_body, 'UTF8')), lower($1)) > 0
                    or strpos(lower(convert_from(response_body, 'UTF8')), lower($2)) > 0)",
        )
        .bind(person.to_string())
        .bind(email)
        .bind(status)
        .bind(headers)
        .bind(body)
        .execute(&mut *self)
        .await?;
        Ok(n.rows_affected())
    }
}
