//! External references: the `(system, external_id)` pairs an organisation's own systems
//! use for our resources, so an HR system can upsert by its own ids.

use std::collections::HashMap;

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::ResourceType;
use super::{Store, StoreError, StoreResult, on_pool};
use crate::domain::Invalid;

/// The scope of references to organisations themselves (kept by the network).
pub const NETWORK_SCOPE: Uuid = Uuid::nil();

/// Longest system name and external id, in characters.
pub const SYSTEM_MAX: usize = 64;
pub const EXTERNAL_ID_MAX: usize = 200;
/// Patterns, as written into the OpenAPI document.
pub const SYSTEM_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
pub const EXTERNAL_ID_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$";

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// A validated `(system, external id)` pair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ExternalRef {
    /// The external system, such as `sdworx` or `personio`.
    #[schema(example = "sdworx")]
    pub system: String,
    /// The resource's id in that system.
    #[schema(example = "E-10442")]
    pub id: String,
}

impl ExternalRef {
    pub fn parse(system: &str, id: &str, pointer: &str) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let system_ok = !system.is_empty()
            && system.len() <= SYSTEM_MAX
            && system.as_bytes()[0].is_ascii_alphanumeric()
            && system.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !system_ok {
            inv.errors.push(crate::domain::FieldError::new(
                format!("{pointer}/system"),
                "must be 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
            ));
        }
        let id_len = id.chars().count();
        if id_len == 0 || id_len > EXTERNAL_ID_MAX || id.chars().any(|c| c.is_control() || c == '/') {
            inv.errors.push(crate::domain::FieldError::new(
                format!("{pointer}/id"),
                "must be 1 to 200 characters without `/` or control characters",
            ));
        }
        inv.finish(|| ExternalRef { system: system.to_string(), id: id.to_string() })
    }
}

impl Store {
    /// The resource a reference names in `scope`, if any.
    pub async fn find_ref(
        &self,
        scope: Uuid,
        system: &str,
        resource_type: ResourceType,
        external_id: &str,
    ) -> StoreResult<Option<Uuid>> {
        Ok(on_pool!(self.writer(), |p| {
            sqlx::query_scalar(
                "select resource_id from external_refs
                 where scope_id = $1 and system = $2 and resource_type = $3 and external_id = $4",
            )
            .bind(scope)
            .bind(system)
            .bind(resource_type.as_str())
            .bind(external_id)
            .fetch_optional(p)
            .await
        })?)
    }

    /// The resources that `external_ids` name in `scope` and `system`, by external id.
    pub async fn find_refs(
        &self,
        scope: Uuid,
        system: &str,
        resource_type: ResourceType,
        external_ids: &[&str],
    ) -> StoreResult<HashMap<String, Uuid>> {
        let mut found = HashMap::new();
        for chunk in external_ids.chunks(1_000) {
            let rows: Vec<(String, Uuid)> = on_pool!(self.reader(), |p, DB| {
                let mut qb =
                    QueryBuilder::<DB>::new("select external_id, resource_id from external_refs where scope_id = ");
                qb.push_bind(scope).push(" and system = ").push_bind(system);
                qb.push(" and resource_type = ").push_bind(resource_type.as_str()).push(" and external_id in (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().persistent(false).fetch_all(p).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The references of `resources` in the given scopes (all scopes when `None`):
    /// `(resource, scope, reference)`, by system and id.
    pub async fn refs_of(
        &self,
        resources: &[Uuid],
        scopes: Option<&[Uuid]>,
    ) -> StoreResult<Vec<(Uuid, Uuid, ExternalRef)>> {
        if resources.is_empty() || scopes.is_some_and(<[Uuid]>::is_empty) {
            return Ok(vec![]);
        }
        let rows: Vec<(Uuid, Uuid, String, String)> = on_pool!(self.reader(), |p, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "select resource_id, scope_id, system, external_id from external_refs where resource_id in (",
            );
            let mut list = qb.separated(", ");
            for r in resources {
                list.push_bind(*r);
            }
            qb.push(")");
            if let Some(scopes) = scopes {
                qb.push(" and scope_id in (");
                let mut list = qb.separated(", ");
                for s in scopes {
                    list.push_bind(*s);
                }
                qb.push(")");
            }
            qb.push(" order by system, external_id");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(|(r, scope, system, id)| (r, scope, ExternalRef { system, id })).collect())
    }
}

/// A reference an organisation's system keeps about a person (for their export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRef {
    /// The organisation whose system uses it.
    pub organisation_id: Uuid,
    pub resource_type: ResourceType,
    /// `None` for the reference of a synced learning record the person deleted (kept so
    /// that the sync cannot bring it back).
    pub resource_id: Option<Uuid>,
    pub reference: ExternalRef,
}

impl Store {
    /// Every reference organisations keep about `person`: to them, to their memberships
    /// (`memberships`), and to the synced learning records they deleted.
    pub async fn refs_about(&self, person: Uuid, memberships: &[Uuid]) -> StoreResult<Vec<KeptRef>> {
        let mut resources = vec![person];
        resources.extend_from_slice(memberships);
        let rows: Vec<(Uuid, String, Uuid, String, String)> = on_pool!(self.reader(), |p, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "select scope_id, resource_type, resource_id, system, external_id from external_refs where resource_id in (",
            );
            let mut list = qb.separated(", ");
            for r in &resources {
                list.push_bind(*r);
            }
            qb.push(") order by scope_id, system, external_id");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?;
        let deleted: Vec<(Uuid, String, String)> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select ref_scope, ref_system, ref_external_id from deleted_record_refs where person_id = $1
                 order by ref_scope, ref_system, ref_external_id",
            )
            .bind(person)
            .fetch_all(p)
            .await
        })?;
        let mut kept = Vec::with_capacity(rows.len() + deleted.len());
        for (scope, kind, resource, system, id) in rows {
            let resource_type = ResourceType::parse(&kind)
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored reference type {kind:?}")))?;
            kept.push(KeptRef {
                organisation_id: scope,
                resource_type,
                resource_id: Some(resource),
                reference: ExternalRef { system, id },
            });
        }
        kept.extend(deleted.into_iter().map(|(scope, system, id)| KeptRef {
            organisation_id: scope,
            resource_type: ResourceType::LearningRecord,
            resource_id: None,
            reference: ExternalRef { system, id },
        }));
        Ok(kept)
    }
}

/// Writes a reference inside a transaction; implemented for both connection types.
pub trait RefWriter {
    /// Writes many references of one scope, system and type in one statement.
    fn insert_refs<'a>(
        &'a mut self,
        scope: Uuid,
        system: &'a str,
        resource_type: ResourceType,
        refs: &'a [(String, Uuid)],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send + 'a;

    fn insert_ref<'a>(
        &'a mut self,
        scope: Uuid,
        reference: &'a ExternalRef,
        resource_type: ResourceType,
        resource_id: Uuid,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send + 'a;
}

/// Pushes the `insert` of `refs` (not empty) onto `qb`, alone or in a [`Batch`](crate::db::Batch).
pub(crate) fn push_insert_refs<DB>(
    qb: &mut sqlx::QueryBuilder<DB>,
    scope: Uuid,
    system: &str,
    resource_type: ResourceType,
    refs: &[(String, Uuid)],
) where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push("insert into external_refs (scope_id, system, resource_type, external_id, resource_id) ");
    qb.push_values(refs, |mut row, (external_id, resource_id)| {
        row.push_bind(scope)
            .push_bind(system)
            .push_bind(resource_type.as_str())
            .push_bind(external_id.as_str())
            .push_bind(*resource_id);
    });
}

impl<C> RefWriter for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> Uuid: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> &'q String: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
{
    async fn insert_refs(
        &mut self,
        scope: Uuid,
        system: &str,
        resource_type: ResourceType,
        refs: &[(String, Uuid)],
    ) -> Result<(), StoreError> {
        // Five parameters a row: 1,000 rows stay far below both databases' limits.
        for chunk in refs.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::<C::Database>::new("");
            push_insert_refs(&mut qb, scope, system, resource_type, chunk);
            qb.build().persistent(false).execute(&mut *self).await.map_err(|e| {
                if super::is_unique_violation(&e) {
                    StoreError::conflict(super::Rule::ReferenceTaken, "a reference is already in use")
                } else {
                    StoreError::from(e)
                }
            })?;
        }
        Ok(())
    }

    async fn insert_ref(
        &mut self,
        scope: Uuid,
        reference: &ExternalRef,
        resource_type: ResourceType,
        resource_id: Uuid,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into external_refs (scope_id, system, resource_type, external_id, resource_id)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(scope)
        .bind(&reference.system)
        .bind(resource_type.as_str())
        .bind(&reference.id)
        .bind(resource_id)
        .execute(&mut *self)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::conflict(
                    super::Rule::ReferenceTaken,
                    format!("the reference {}/{} is already in use", reference.system, reference.id),
                )
            } else {
                e.into()
            }
        })?;
        Ok(())
    }
}
