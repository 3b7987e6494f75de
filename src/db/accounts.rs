//! People's credentials, integration clients and refresh tokens.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::rights_cache::{ClientGrant, Entry, Lookup, ScimTokenOf};
use super::{BeginWrite, Store, StoreError, StoreResult, execute, now, on_pool};
use crate::auth::rights::{PersonRole, Scope};
use crate::domain::account::Email;
use crate::domain::person::{PersonContent, StakeholderGroup};

/// What signing in needs to know about a person.
#[derive(Debug, Clone)]
pub struct PersonAccount {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: PersonRole,
    pub password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PersonAccountRow {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    password_hash: Option<String>,
}

impl TryFrom<PersonAccountRow> for PersonAccount {
    type Error = StoreError;

    fn try_from(r: PersonAccountRow) -> Result<Self, StoreError> {
        Ok(PersonAccount {
            role: PersonRole::parse(&r.role).ok_or_else(|| anyhow::anyhow!("stored role {:?}", r.role))?,
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
        })
    }
}

/// An integration client as the token endpoint sees it.
#[derive(Debug, Clone)]
pub struct ClientAccount {
    pub id: Uuid,
    pub name: String,
    pub organisation_id: Option<Uuid>,
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    pub revoked: bool,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: Uuid,
    name: String,
    organisation_id: Option<Uuid>,
    secret_hash: String,
    scopes: String,
    revoked_at: Option<DateTime<Utc>>,
}

/// An integration client as its organisation's admins see it (never its secret).
#[derive(Debug, Clone)]
pub struct ClientSummary {
    pub id: Uuid,
    pub name: String,
    pub organisation_id: Option<Uuid>,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ClientSummaryRow {
    id: Uuid,
    name: String,
    organisation_id: Option<Uuid>,
    scopes: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ClientSummaryRow> for ClientSummary {
    type Error = StoreError;

    fn try_from(r: ClientSummaryRow) -> Result<Self, StoreError> {
        Ok(ClientSummary {
            scopes: Scope::parse_list(&r.scopes).map_err(|s| anyhow::anyhow!("stored scope {s:?}"))?,
            id: r.id,
            name: r.name,
            organisation_id: r.organisation_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now spent; its successor is stored in `family_id`.
    Rotated { person_id: Uuid, family_id: Uuid, role: PersonRole },
    /// Unknown, expired or revoked, or the person can no longer sign in.
    Invalid,
    /// Already spent: someone replayed it. The whole family is now revoked.
    Reused,
}

impl Store {
    /// Adds a person who can sign in (stakeholder group from the role: facilitators are
    /// facilitators, others `other` until they fill in their profile). `Conflict` when the
    /// e-mail address is taken.
    #[tracing::instrument(skip(self, email, display_name, password_hash))]
    pub async fn create_person_account(
        &self,
        email: &Email,
        display_name: &str,
        role: PersonRole,
        password_hash: Option<&str>,
    ) -> StoreResult<Uuid> {
        let content = PersonContent {
            name: display_name.to_string(),
            email: email.clone(),
            stakeholder_group: match role {
                PersonRole::Facilitator => StakeholderGroup::Facilitator,
                PersonRole::PolicyReader => StakeholderGroup::PolicyMaker,
                PersonRole::Member => StakeholderGroup::Other,
            },
            birth_year: None,
            age_band: None,
            languages: vec![],
        };
        let (person, _) = self.create_person(&content, role, password_hash, None).await?;
        Ok(person.id)
    }

    /// Makes a person a facilitator with a new password hash (`vov create-admin` on an
    /// existing account), ending their existing sign-ins.
    #[tracing::instrument(skip(self, password_hash))]
    pub async fn set_person_credentials(&self, id: Uuid, role: PersonRole, password_hash: &str) -> StoreResult<()> {
        let person = self.get_person(id).await?;
        if person.role != role {
            self.set_person_role(id, person.version, role).await?;
        }
        self.set_password_hash(id, password_hash).await?;
        self.revoke_sessions_of(id).await
    }

    #[tracing::instrument(skip(self, email_key))]
    pub async fn find_person_by_email(&self, email_key: &str) -> StoreResult<Option<PersonAccount>> {
        let row: Option<PersonAccountRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as("select id, email, display_name, role, password_hash from people where email_key = $1")
                .bind(email_key)
                .fetch_optional(p)
                .await
        })?;
        row.map(PersonAccount::try_from).transpose()
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_person_account(&self, id: Uuid) -> StoreResult<PersonAccount> {
        let row: Option<PersonAccountRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as("select id, email, display_name, role, password_hash from people where id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Adds an integration client; the caller made the secret and passes its hash.
    #[tracing::instrument(skip(self, secret_hash))]
    pub async fn create_client(
        &self,
        name: &str,
        organisation_id: Option<Uuid>,
        scopes: &[Scope],
        secret_hash: &str,
    ) -> StoreResult<Uuid> {
        let id = crate::db::ids::new_id(crate::db::ids::Kind::Client);
        let at = now();
        execute!(
            self.writer(),
            "insert into api_clients (id, name, organisation_id, secret_hash, scopes, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $6, 1)",
            id,
            name,
            organisation_id,
            secret_hash,
            Scope::join(scopes),
            at
        )?;
        Ok(id)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_client(&self, id: Uuid) -> StoreResult<Option<ClientAccount>> {
        let row: Option<ClientRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, name, organisation_id, secret_hash, scopes, revoked_at from api_clients where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.map(|r| {
            Ok(ClientAccount {
                scopes: Scope::parse_list(&r.scopes).map_err(|s| anyhow::anyhow!("stored scope {s:?}"))?,
                id: r.id,
                name: r.name,
                organisation_id: r.organisation_id,
                secret_hash: r.secret_hash,
                revoked: r.revoked_at.is_some(),
            })
        })
        .transpose()
    }

    /// What a client may do now (see [`crate::db::rights_cache`]): read at most once a
    /// second per client, and at once after this instance changed a client.
    pub async fn client_grant(&self, id: Uuid, today: NaiveDate) -> StoreResult<Option<ClientGrant>> {
        let generation = match self.rights.get(id, today) {
            Lookup::Hit(Entry::Client(grant)) => return Ok(grant),
            Lookup::Hit(Entry::Person(_)) => self.rights.generation(),
            Lookup::Miss(generation) => generation,
        };
        let grant = self.get_client(id).await?.map(|c| ClientGrant {
            organisation_id: c.organisation_id,
            scopes: c.scopes,
            revoked: c.revoked,
        });
        self.rights.put(id, today, generation, Entry::Client(grant.clone()));
        Ok(grant)
    }

    /// The clients of an organisation, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_clients(&self, organisation_id: Uuid) -> StoreResult<Vec<ClientSummary>> {
        let rows: Vec<ClientSummaryRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, name, organisation_id, scopes, created_at, updated_at, revoked_at from api_clients
                 where organisation_id = $1 order by created_at, id",
            )
            .bind(organisation_id)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(ClientSummary::try_from).collect()
    }

    /// One client's public data.
    pub async fn get_client_summary(&self, id: Uuid) -> StoreResult<ClientSummary> {
        let row: Option<ClientSummaryRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, name, organisation_id, scopes, created_at, updated_at, revoked_at from api_clients
                 where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Replaces a client's secret: the old one stops working at once.
    #[tracing::instrument(skip(self, secret_hash))]
    pub async fn rotate_client_secret(&self, id: Uuid, secret_hash: &str) -> StoreResult<()> {
        let n = execute!(
            self.writer(),
            "update api_clients set secret_hash = $2, updated_at = $3, version = version + 1
                 where id = $1 and revoked_at is null",
            id,
            secret_hash,
            now()
        )?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// Gives a client a new SCIM token (its SHA-256): the previous one stops working at once.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn set_scim_token(&self, id: Uuid, token_hash: Option<&[u8]>) -> StoreResult<Option<DateTime<Utc>>> {
        // The old token stops at once here (and within a second on other instances).
        let _rights = self.rights.changing();
        let at = token_hash.map(|_| now());
        let n = execute!(
            self.writer(),
            "update api_clients set scim_token_hash = $2, scim_token_created_at = $3 where id = $1 and revoked_at is null",
            id,
            token_hash,
            at
        )?;
        if n == 1 { Ok(at) } else { Err(StoreError::NotFound) }
    }

    /// The client (and its organisation) a SCIM token stands for, by the token's SHA-256;
    /// found tokens are kept for a second (see [`crate::db::rights_cache`]).
    pub async fn client_of_scim_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ScimTokenOf>> {
        let generation = match self.rights.token(token_hash) {
            Lookup::Hit(of) => return Ok(Some(of)),
            Lookup::Miss(generation) => generation,
        };
        let found: Option<ScimTokenOf> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, organisation_id from api_clients where scim_token_hash = $1 and revoked_at is null",
            )
            .bind(&token_hash[..])
            .fetch_optional(p)
            .await
        })?;
        if let Some(of) = found {
            self.rights.put_token(*token_hash, generation, of);
        }
        Ok(found)
    }

    /// Marks a client revoked: its secret no longer yields tokens.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_client(&self, id: Uuid) -> StoreResult<()> {
        let _rights = self.rights.changing();
        execute!(
            self.writer(),
            "update api_clients set revoked_at = $2, updated_at = $2, version = version + 1 where id = $1",
            id,
            now()
        )?;
        Ok(())
    }

    /// Starts a sign-in session with its first refresh token.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn start_session(
        &self,
        person_id: Uuid,
        token_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<Uuid> {
        let family_id = Uuid::now_v7();
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            sqlx::query("insert into refresh_families (id, person_id, created_at) values ($1, $2, $3)")
                .bind(family_id)
                .bind(person_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into refresh_tokens (id, token_hash, family_id, person_id, created_at, expires_at)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(token_hash)
            .bind(family_id)
            .bind(person_id)
            .bind(at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await)?;
        Ok(family_id)
    }

    /// Spends a refresh token and stores its successor, in one transaction: a failure
    /// leaves the old token unspent, so the client can simply retry. Exactly one of any
    /// number of concurrent presentations wins (`used_at is null` in the update). A token
    /// presented again after it was spent is a replay: its whole session is revoked
    /// (OAuth 2.0 Security BCP §4.14). The session row is locked before the successor is
    /// written, so a session revoked meanwhile never gains one.
    #[tracing::instrument(skip(self, token_hash, successor_hash))]
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        successor_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<RefreshOutcome> {
        let at = now();
        let outcome: Option<RefreshOutcome> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let spent: Option<(Uuid, Uuid)> = sqlx::query_as(
                "update refresh_tokens set used_at = $2
                 where token_hash = $1 and used_at is null and revoked_at is null and expires_at > $2
                   and not exists (select 1 from refresh_families f
                                   where f.id = refresh_tokens.family_id and f.revoked_at is not null)
                 returning person_id, family_id",
            )
            .bind(token_hash)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((person_id, family_id)) = spent else { return Ok::<_, StoreError>(None) };
            // `set id = id` locks the session row on both databases.
            let revoked: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("update refresh_families set id = id where id = $1 returning revoked_at")
                    .bind(family_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let role: Option<(String, Option<String>)> =
                sqlx::query_as("select role, password_hash from people where id = $1")
                    .bind(person_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let role = match (revoked, role) {
                (Some(None), Some((role, Some(_)))) => {
                    PersonRole::parse(&role).ok_or_else(|| anyhow::anyhow!("stored role {role:?}"))?
                }
                _ => return Ok(Some(RefreshOutcome::Invalid)),
            };
            sqlx::query(
                "insert into refresh_tokens (id, token_hash, family_id, person_id, created_at, expires_at)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(successor_hash)
            .bind(family_id)
            .bind(person_id)
            .bind(at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(RefreshOutcome::Rotated { person_id, family_id, role }))
        }
        .await)?;
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
        let known: Option<(Uuid, Option<DateTime<Utc>>)> = on_pool!(self.writer(), |p| {
            sqlx::query_as("select family_id, used_at from refresh_tokens where token_hash = $1")
                .bind(token_hash)
                .fetch_optional(p)
                .await
        })?;
        match known {
            Some((family_id, Some(_used))) => {
                self.revoke_session(family_id).await?;
                Ok(RefreshOutcome::Reused)
            }
            _ => Ok(RefreshOutcome::Invalid),
        }
    }

    /// Revokes the session a refresh token belongs to (sign-out, RFC 7009). Unknown tokens
    /// are ignored.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn revoke_refresh_token(&self, token_hash: &[u8]) -> StoreResult<()> {
        let family: Option<Uuid> = on_pool!(self.writer(), |p| {
            sqlx::query_scalar("select family_id from refresh_tokens where token_hash = $1")
                .bind(token_hash)
                .fetch_optional(p)
                .await
        })?;
        if let Some(family_id) = family {
            self.revoke_session(family_id).await?;
        }
        Ok(())
    }

    async fn revoke_session(&self, family_id: Uuid) -> StoreResult<()> {
        execute!(
            self.writer(),
            "update refresh_families set revoked_at = $2 where id = $1 and revoked_at is null",
            family_id,
            now()
        )?;
        Ok(())
    }

    /// Ends every sign-in session of a person (after a password change).
    #[tracing::instrument(skip(self))]
    pub async fn revoke_sessions_of(&self, person_id: Uuid) -> StoreResult<()> {
        execute!(
            self.writer(),
            "update refresh_families set revoked_at = $2 where person_id = $1 and revoked_at is null",
            person_id,
            now()
        )?;
        Ok(())
    }

    /// Deletes refresh tokens and idempotency keys past their expiry. Returns rows removed.
    #[tracing::instrument(skip(self))]
    pub async fn purge_expired(&self) -> StoreResult<u64> {
        let at = now();
        let tokens = execute!(self.writer(), "delete from refresh_tokens where expires_at < $1", at)?;
        let sessions = execute!(
            self.writer(),
            "delete from refresh_families
                 where not exists (select 1 from refresh_tokens t where t.family_id = refresh_families.id)",
        )?;
        let keys = execute!(self.writer(), "delete from idempotency_keys where expires_at < $1", at)?;
        Ok(tokens + sessions + keys)
    }
}
