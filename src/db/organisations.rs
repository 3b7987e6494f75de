//! Organisations in storage.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::page::{Keyset, Page, Sort, SortField, SortValue, fold};
use super::refs::{ExternalRef, NETWORK_SCOPE, RefWriter, Upserted};
use super::{BeginWrite, Rule, Store, StoreError, StoreResult, is_unique_violation, now, on_pool};
use crate::domain::organisation::{
    EnterpriseNumber, Organisation, OrganisationContent, OrganisationKind, Region, SectorFilter, SizeBand,
};

/// Fields an organisation list can be sorted by; `name` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

impl SortField for OrganisationSort {
    const ALL: &'static [Self] = &[OrganisationSort::Name, OrganisationSort::CreatedAt, OrganisationSort::UpdatedAt];

    fn name(self) -> &'static str {
        match self {
            OrganisationSort::Name => "name",
            OrganisationSort::CreatedAt => "created_at",
            OrganisationSort::UpdatedAt => "updated_at",
        }
    }

    fn column(self) -> &'static str {
        self.name()
    }

    fn is_time(self) -> bool {
        !matches!(self, OrganisationSort::Name)
    }
}

/// An organisation list request.
#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub kind: Option<OrganisationKind>,
    pub sector: Option<String>,
    pub region: Option<Region>,
    pub q: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: Uuid,
    name: String,
    kind: String,
    enterprise_number: Option<String>,
    sector: Option<String>,
    size_band: Option<String>,
    region: Option<String>,
    website: Option<String>,
    themes: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const COLUMNS: &str =
    "id, name, kind, enterprise_number, sector, size_band, region, website, themes, created_at, updated_at, version";

fn stored<T>(what: &str, value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored {what} is not valid")))
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = StoreError;

    fn try_from(r: OrganisationRow) -> Result<Self, StoreError> {
        Ok(Organisation {
            id: r.id,
            content: OrganisationContent {
                name: r.name,
                kind: stored("kind", OrganisationKind::parse(&r.kind))?,
                enterprise_number: r
                    .enterprise_number
                    .map(|n| EnterpriseNumber::parse(&n).map_err(|e| anyhow::anyhow!("stored enterprise number: {e}")))
                    .transpose()?,
                sector: r.sector,
                size_band: r.size_band.map(|s| stored("size band", SizeBand::parse(&s))).transpose()?,
                region: r.region.map(|s| stored("region", Region::parse(&s))).transpose()?,
                website: r.website,
                themes: serde_json::from_str(&r.themes).map_err(anyhow::Error::from)?,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

fn organisation_keyset(sort: OrganisationSort, o: &Organisation) -> Keyset {
    let value = match sort {
        OrganisationSort::Name => SortValue::Text(o.content.name.clone()),
        OrganisationSort::CreatedAt => SortValue::Time(o.created_at),
        OrganisationSort::UpdatedAt => SortValue::Time(o.updated_at),
    };
    Keyset { value, id: o.id }
}

fn search_text(c: &OrganisationContent) -> String {
    fold(&format!("{} {}", c.name, c.enterprise_number.as_ref().map_or("", |e| e.as_str())))
}

fn themes_json(themes: &[String]) -> String {
    serde_json::to_string(themes).unwrap_or_else(|_| "[]".into())
}

fn conflict(e: sqlx::Error, c: &OrganisationContent) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::conflict(
            Rule::EnterpriseNumberTaken,
            format!(
                "an organisation with enterprise number {} already exists",
                c.enterprise_number.as_ref().map_or("", |n| n.as_str())
            ),
        )
    } else {
        e.into()
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn list_organisations(
        &self,
        filter: &OrganisationFilter,
        sort: Sort<OrganisationSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Organisation>> {
        let rows: Vec<OrganisationRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {COLUMNS} from organisations where 1 = 1"));
            if let Some(kind) = filter.kind {
                qb.push(" and kind = ").push_bind(kind.as_str());
            }
            match SectorFilter::of(filter.sector.as_deref().unwrap_or_default()) {
                _ if filter.sector.is_none() => {}
                SectorFilter::Section { letter, first, last } => {
                    qb.push(" and (sector = ").push_bind(letter);
                    qb.push(" or (length(sector) >= 2 and substr(sector, 1, 2) between ").push_bind(first);
                    qb.push(" and ").push_bind(last).push("))");
                }
                // A checked code holds only digits and dots: no LIKE wildcards.
                SectorFilter::Prefix(code) => {
                    qb.push(" and sector like ").push_bind(format!("{code}%"));
                }
            }
            if let Some(region) = filter.region {
                qb.push(" and region = ").push_bind(region.as_str());
            }
            if let Some(q) = filter.q.as_deref() {
                qb.push(" and search_text like ")
                    .push_bind(super::page::contains_pattern(&fold(q)))
                    .push(" escape '\\'");
            }
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Organisation>::try_from_rows(rows, limit, |o| organisation_keyset(sort.field, o))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_organisation(&self, id: Uuid) -> StoreResult<Organisation> {
        let row: Option<OrganisationRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, name, kind, enterprise_number, sector, size_band, region, website, themes, created_at,
                        updated_at, version
                 from organisations where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Which of `slugs` name no theme.
    pub async fn missing_theme_slugs(&self, slugs: &[String]) -> StoreResult<Vec<String>> {
        if slugs.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<String> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select slug from themes where slug in (");
            let mut list = qb.separated(", ");
            for s in slugs {
                list.push_bind(s.clone());
            }
            qb.push(")");
            qb.build_query_scalar().persistent(false).fetch_all(p).await
        })?;
        Ok(slugs.iter().filter(|s| !found.contains(s)).cloned().collect())
    }

    /// Creates an organisation, with an external reference in the network scope if given.
    #[tracing::instrument(skip(self))]
    pub async fn create_organisation(
        &self,
        content: &OrganisationContent,
        external_ref: Option<&ExternalRef>,
    ) -> StoreResult<Organisation> {
        let at = now();
        let org = Organisation {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Organisation),
            content: content.clone(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let changes = [Change::of(&org, true, vec![])?];
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let c = &org.content;
            sqlx::query(
                "insert into organisations (id, name, kind, enterprise_number, sector, size_band, region, website,
                                            themes, search_text, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)",
            )
            .bind(org.id)
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(c.enterprise_number.as_ref().map(EnterpriseNumber::as_str))
            .bind(&c.sector)
            .bind(c.size_band.map(SizeBand::as_str))
            .bind(c.region.map(Region::as_str))
            .bind(&c.website)
            .bind(themes_json(&c.themes))
            .bind(search_text(c))
            .bind(org.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, content))?;
            if let Some(r) = external_ref {
                (*tx).insert_ref(NETWORK_SCOPE, r, ResourceType::Organisation, org.id).await?;
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok(org)
    }

    /// Replaces an organisation's content if its version is still `expected_version`.
    #[tracing::instrument(skip(self))]
    pub async fn update_organisation(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &OrganisationContent,
    ) -> StoreResult<Organisation> {
        let updated: Option<Organisation> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let c = content;
            let row: Option<OrganisationRow> = sqlx::query_as(
                "update organisations
                 set name = $3, kind = $4, enterprise_number = $5, sector = $6, size_band = $7, region = $8,
                     website = $9, themes = $10, search_text = $11, updated_at = $12, version = version + 1
                 where id = $1 and version = $2
                 returning id, name, kind, enterprise_number, sector, size_band, region, website, themes, created_at,
                           updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(c.enterprise_number.as_ref().map(EnterpriseNumber::as_str))
            .bind(&c.sector)
            .bind(c.size_band.map(SizeBand::as_str))
            .bind(c.region.map(Region::as_str))
            .bind(&c.website)
            .bind(themes_json(&c.themes))
            .bind(search_text(c))
            .bind(now())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| conflict(e, c))?;
            let org = row.map(Organisation::try_from).transpose()?;
            if let Some(org) = &org {
                (*tx).record(&[Change::of(org, true, vec![])?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(org)
        }
        .await)?;
        self.written(updated, "organisations", id).await
    }

    /// Deletes an organisation that has no memberships and organises no events.
    #[tracing::instrument(skip(self))]
    pub async fn delete_organisation(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        // Its clients are revoked with it.
        let _rights = self.rights.changing();
        let deleted: Option<i64> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let members: i64 = sqlx::query_scalar("select count(*) from memberships where organisation_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if members > 0 {
                return Err(StoreError::conflict(
                    Rule::InUse,
                    format!("the organisation still has {members} memberships; end and remove them first"),
                ));
            }
            // Events keep their organisers: the network's history stays whole.
            let events: i64 = sqlx::query_scalar("select count(*) from event_organisers where organisation_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if events > 0 {
                return Err(StoreError::conflict(
                    Rule::InUse,
                    format!("the organisation organises or co-organises {events} events; they keep their organisers"),
                ));
            }
            let version: Option<i64> = sqlx::query_scalar(
                "delete from organisations where id = $1 and ($2 is null or version = $2) returning version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(v) = version {
                // Its own reference in the network, and every reference its systems kept.
                sqlx::query("delete from external_refs where resource_id = $1 or scope_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("update api_clients set revoked_at = $2 where organisation_id = $1 and revoked_at is null")
                    .bind(id)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                (*tx).record(&[Change::delete(ResourceType::Organisation, id, v + 1, true, vec![])]).await?;
            }
            tx.commit().await?;
            Ok(version)
        }
        .await)?;
        self.written(deleted, "organisations", id).await.map(drop)
    }

    /// Creates or replaces the organisation a network-scope reference names.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_organisation_by_ref(
        &self,
        external_ref: &ExternalRef,
        content: &OrganisationContent,
    ) -> StoreResult<(Organisation, Upserted)> {
        // Two concurrent first upserts of one reference: the loser's insert of the reference
        // fails on its key, and its second attempt finds and updates the winner's row.
        for attempt in 0..3 {
            let existing = self
                .find_ref(NETWORK_SCOPE, &external_ref.system, ResourceType::Organisation, &external_ref.id)
                .await?;
            let result = match existing {
                None => self.create_organisation(content, Some(external_ref)).await.map(|o| (o, Upserted::Created)),
                Some(id) => {
                    let current = self.get_organisation(id).await?;
                    if &current.content == content {
                        return Ok((current, Upserted::Unchanged));
                    }
                    self.update_organisation(id, current.version, content).await.map(|o| (o, Upserted::Updated))
                }
            };
            match result {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) if attempt < 2 => continue,
                other => return other,
            }
        }
        unreachable!("the loop returns on its last attempt")
    }
}
