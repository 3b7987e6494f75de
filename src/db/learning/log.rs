//! The learning log: reads, writes and sync of records, with their viewers' rights in the query.

use super::*;

/// Keeps the reference of a deleted synced record, so a later sync does not bring it back.
pub(super) async fn remember_deleted_ref<'c, E>(conn: E, person: Uuid, x: &RecordRef) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> String: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    sqlx::query(
        "insert into deleted_record_refs (ref_scope, ref_system, ref_external_id, deleted_at, person_id)
         values ($1, $2, $3, $4, $5)
         on conflict (ref_scope, ref_system, ref_external_id) do nothing",
    )
    .bind(x.scope)
    .bind(x.system.clone())
    .bind(x.external_id.clone())
    .bind(now())
    .bind(person)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) fn push_viewer<DB>(qb: &mut QueryBuilder<DB>, viewer: &RecordViewer)
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(" and (1 = 0");
    if let Some(me) = viewer.me {
        qb.push(" or r.person_id = ").push_bind(me);
    }
    if !viewer.organisations.is_empty() {
        qb.push(" or (r.visibility = 'organisation' and exists (select 1 from learning_record_shares s where s.record_id = r.id and s.organisation_id in (");
        let mut list = qb.separated(", ");
        for o in &viewer.organisations {
            list.push_bind(*o);
        }
        qb.push(")))");
    }
    if viewer.network {
        qb.push(" or r.visibility = 'network'");
    }
    qb.push(")");
}

pub(super) fn push_filter<DB>(qb: &mut QueryBuilder<DB>, filter: &RecordFilter)
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(p) = filter.person_id {
        qb.push(" and r.person_id = ").push_bind(p);
    }
    if let Some(t) = filter.activity_type {
        qb.push(" and r.activity_type = ").push_bind(t.as_str());
    }
    if let Some(c) = filter.context {
        qb.push(" and r.context = ").push_bind(c.as_str());
    }
    if let Some(v) = filter.visibility {
        qb.push(" and r.visibility = ").push_bind(v.as_str());
    }
    if let Some(theme) = &filter.theme {
        // Slugs are `[a-z0-9-]`: the quoted slug matches exactly one array element.
        qb.push(" and r.themes like ").push_bind(format!("%\"{theme}\"%"));
    }
    if let Some(from) = filter.from {
        qb.push(" and r.started_on >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" and r.started_on <= ").push_bind(to);
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn get_record(&self, id: Uuid) -> StoreResult<LearningRecord> {
        let row: Option<RecordRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {RECORD_COLUMNS} from learning_records r where r.id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Records matching `filter` that `viewer` may read (`None`: every record, for the
    /// export of one's own data), oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_records(
        &self,
        filter: &RecordFilter,
        viewer: Option<&RecordViewer>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<LearningRecord>> {
        let rows: Vec<RecordRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb =
                QueryBuilder::<DB>::new(format!("select {RECORD_COLUMNS} from learning_records r where 1 = 1"));
            push_filter(&mut qb, filter);
            if let Some(viewer) = viewer {
                push_viewer(&mut qb, viewer);
            }
            if let Some(after) = after {
                qb.push(" and (r.created_at, r.id) > (");
                match &after.value {
                    SortValue::Time(t) => qb.push_bind(*t),
                    SortValue::Text(s) => qb.push_bind(s.clone()),
                };
                qb.push(", ").push_bind(after.id).push(")");
            }
            qb.push(" order by r.created_at, r.id limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<LearningRecord>::try_from_rows(rows, limit, |r| Keyset {
            value: SortValue::Time(r.created_at),
            id: r.id,
        })
    }

    /// Counts and minutes of `person`'s records from `from` to `to`, per activity type,
    /// context and quarter; with `organisations`, only the records shared with one of them.
    /// Grouped in SQL, so a person's thousand records come back as a few dozen rows.
    #[tracing::instrument(skip(self))]
    pub async fn record_summary(
        &self,
        person: Uuid,
        organisations: Option<&[Uuid]>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> StoreResult<Vec<SummaryRow>> {
        // The calendar quarter of the start date, `2027-Q1`: dates are ISO text in SQLite.
        let quarter = match self.kind() {
            DatabaseKind::Sqlite => {
                "substr(r.started_on, 1, 4) || '-Q' || ((cast(substr(r.started_on, 6, 2) as integer) + 2) / 3)"
            }
            // `extract` on a date is plain arithmetic; `to_char` casts each date to a
            // timestamp with time zone first, forty times slower over a thousand rows.
            DatabaseKind::Postgres => {
                "extract(year from r.started_on)::int || '-Q' || extract(quarter from r.started_on)::int"
            }
        };
        let rows: Vec<(String, String, String, i64, i64)> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!(
                "select r.activity_type, r.context, {quarter} as quarter, count(*),
                     cast(coalesce(sum(r.duration_minutes), 0) as bigint)
                 from learning_records r where r.person_id = "
            ));
            qb.push_bind(person);
            if let Some(from) = from {
                qb.push(" and r.started_on >= ").push_bind(from);
            }
            if let Some(to) = to {
                qb.push(" and r.started_on <= ").push_bind(to);
            }
            if let Some(orgs) = organisations {
                push_viewer(&mut qb, &RecordViewer { me: None, organisations: orgs.to_vec(), network: false });
            }
            qb.push(" group by r.activity_type, r.context, quarter");
            qb.build_query_as().fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(t, c, quarter, records, minutes)| {
                Ok(SummaryRow {
                    activity_type: ActivityType::parse(&t).ok_or_else(|| invalid_stored("activity type"))?,
                    context: LearningContext::parse(&c).ok_or_else(|| invalid_stored("context"))?,
                    quarter,
                    records,
                    minutes,
                })
            })
            .collect()
    }

    /// Stores a new record. With `done` (a done commitment as it will be once linked), the
    /// commitment is linked to the record in the same transaction.
    #[tracing::instrument(skip(self, record, done))]
    pub async fn create_record(&self, record: &LearningRecord, done: Option<&Commitment>) -> StoreResult<()> {
        let mut changes = change_entries(None, record)?;
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            if let Some(c) = done {
                let n = sqlx::query(
                    "update commitments set learning_record_id = $3, updated_at = $4, version = version + 1
                     where id = $1 and version = $2 and learning_record_id is null",
                )
                .bind(c.id)
                .bind(c.version - 1)
                .bind(record.id)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::conflict(
                        Rule::ChangedMeanwhile,
                        "The commitment changed meanwhile, or has a learning record already; read it again.",
                    ));
                }
                changes.push(crate::db::events::commitment_change_in(&mut *tx, c).await?);
            }
            (*tx).insert_records(&[record]).await?;
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Replaces a record's content and sharing if its version is still `expected_version`.
    #[tracing::instrument(skip(self, current, updated))]
    pub async fn update_record(
        &self,
        current: &LearningRecord,
        updated: &LearningRecord,
        expected_version: i64,
    ) -> StoreResult<()> {
        let changes = change_entries(Some(current), updated)?;
        let saved = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let saved = (*tx).update_record_row(updated, expected_version).await?;
            if saved {
                (*tx).replace_shares(&[updated], false).await?;
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(saved)
        }
        .await)?;
        if saved { Ok(()) } else { Err(self.record_version_error(current.id).await?) }
    }

    pub(super) async fn record_version_error(&self, id: Uuid) -> StoreResult<StoreError> {
        let current: Option<i64> =
            on_pool!(self.writer(), |p| sqlx::query_scalar("select version from learning_records where id = $1")
                .bind(id)
                .fetch_optional(p)
                .await)?;
        Ok(match current {
            Some(current) => StoreError::VersionMismatch { current },
            None => StoreError::NotFound,
        })
    }

    /// Deletes a record (the feed keeps a tombstone); a commitment it showed loses the link.
    /// When its owner deletes a synced record, its reference is kept, so the HR system cannot
    /// bring it back; when the HR system that synced it retracts it (`retracted`), it is not.
    #[tracing::instrument(skip(self, current, unlinked))]
    pub async fn delete_record(
        &self,
        current: &LearningRecord,
        expected_version: Option<i64>,
        unlinked: Vec<Commitment>,
        retracted: bool,
    ) -> StoreResult<()> {
        let mut changes = vec![Change::delete(
            ResourceType::LearningRecord,
            current.id,
            current.version + 1,
            false,
            record_audience(current),
        )];
        let deleted = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("delete from learning_records where id = $1 and ($2 is null or version = $2)")
                .bind(current.id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                if let Some(x) = current.external_ref.as_ref().filter(|_| !retracted) {
                    remember_deleted_ref(&mut *tx, current.person_id, x).await?;
                }
                for c in &unlinked {
                    let n = sqlx::query(
                        "update commitments set learning_record_id = null, updated_at = $3, version = version + 1
                         where id = $1 and version = $2",
                    )
                    .bind(c.id)
                    .bind(c.version - 1)
                    .bind(c.updated_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::conflict(
                            Rule::ChangedMeanwhile,
                            "A commitment linked to this record changed meanwhile; try again.",
                        ));
                    }
                    changes.push(crate::db::events::commitment_change_in(&mut *tx, c).await?);
                }
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n == 1)
        }
        .await)?;
        if deleted { Ok(()) } else { Err(self.record_version_error(current.id).await?) }
    }

    /// The record an organisation's system synced as `(system, external_id)`, if any.
    #[tracing::instrument(skip(self))]
    pub async fn record_by_ref(
        &self,
        organisation: Uuid,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Uuid>> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select id from learning_records where ref_scope = $1 and ref_system = $2 and ref_external_id = $3"
        )
        .bind(organisation)
        .bind(system)
        .bind(external_id)
        .fetch_optional(p)
        .await)?)
    }

    /// The record `person` made of an event, if any.
    pub async fn record_of_event(&self, person: Uuid, event: Uuid) -> StoreResult<Option<Uuid>> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select id from learning_records where person_id = $1 and event_id = $2 and commitment_id is null limit 1"
        )
        .bind(person)
        .bind(event)
        .fetch_optional(p)
        .await)?)
    }

    /// The commitments that point at a record.
    pub async fn commitments_showing(&self, record: Uuid) -> StoreResult<Vec<Uuid>> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar("select id from commitments where learning_record_id = $1")
            .bind(record)
            .fetch_all(p)
            .await)?)
    }

    /// Which of `people` are current members of `organisation` on `today`.
    pub async fn members_among(
        &self,
        organisation: Uuid,
        people: &[Uuid],
        today: NaiveDate,
    ) -> StoreResult<HashSet<Uuid>> {
        let mut members = HashSet::new();
        for chunk in people.chunks(1_000) {
            let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
                let mut qb =
                    QueryBuilder::<DB>::new("select distinct person_id from memberships where organisation_id = ");
                qb.push_bind(organisation);
                qb.push(" and starts_on <= ").push_bind(today);
                qb.push(" and (ends_on is null or ends_on >= ").push_bind(today).push(")");
                qb.push(" and person_id in (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_scalar().persistent(false).fetch_all(p).await
            })?;
            members.extend(found);
        }
        Ok(members)
    }

    /// Creates or updates records named by `(organisation, system, external id)`, one
    /// result per item in order; a refused item never stops the others. New records are
    /// private (their person decides whom to share them with) and keep `source`; an update
    /// changes the content only, never the sharing. A reference whose record its person
    /// deleted is refused. Runs as one transaction; retried when a concurrent writer
    /// breaks it, and finally item by item.
    #[tracing::instrument(skip(self, items), fields(items = items.len()))]
    pub async fn upsert_records(
        &self,
        organisation: Uuid,
        system: &str,
        source: &str,
        items: &[RecordUpsert],
    ) -> StoreResult<Vec<Result<RecordUpsertOutcome, ItemConflict>>> {
        for _ in 0..3 {
            match self.upsert_records_once(organisation, system, source, items).await {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => continue,
                other => return other,
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let one = self.upsert_records_once(organisation, system, source, std::slice::from_ref(item)).await;
            results.push(match one {
                Ok(mut r) => r.pop().expect("one result per item"),
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => {
                    Err(ItemConflict::conflict("", "the record changed meanwhile; send it again"))
                }
                Err(e) => return Err(e),
            });
        }
        Ok(results)
    }

    pub(super) async fn upsert_records_once(
        &self,
        organisation: Uuid,
        system: &str,
        source: &str,
        items: &[RecordUpsert],
    ) -> StoreResult<Vec<Result<RecordUpsertOutcome, ItemConflict>>> {
        let at = now();
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let mut existing: HashMap<String, LearningRecord> = HashMap::new();
            let mut deleted: HashSet<String> = HashSet::new();
            for chunk in items.chunks(1_000) {
                let mut qb = QueryBuilder::<DB>::new(format!(
                    "select {RECORD_COLUMNS} from learning_records r where r.ref_scope = "
                ));
                qb.push_bind(organisation).push(" and r.ref_system = ").push_bind(system);
                qb.push(" and r.ref_external_id in (");
                let mut list = qb.separated(", ");
                for item in chunk {
                    list.push_bind(item.external_id.as_str());
                }
                qb.push(")");
                let rows: Vec<RecordRow> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
                for row in rows {
                    let r = LearningRecord::try_from(row)?;
                    let key = r.external_ref.as_ref().map(|x| x.external_id.clone()).unwrap_or_default();
                    existing.insert(key, r);
                }
                let mut qb =
                    QueryBuilder::<DB>::new("select ref_external_id from deleted_record_refs where ref_scope = ");
                qb.push_bind(organisation).push(" and ref_system = ").push_bind(system);
                qb.push(" and ref_external_id in (");
                let mut list = qb.separated(", ");
                for item in chunk {
                    list.push_bind(item.external_id.as_str());
                }
                qb.push(")");
                let gone: Vec<String> = qb.build_query_scalar().persistent(false).fetch_all(&mut *tx).await?;
                deleted.extend(gone);
            }

            let mut results = Vec::with_capacity(items.len());
            let mut created: Vec<LearningRecord> = Vec::new();
            let mut updated: Vec<(LearningRecord, LearningRecord)> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::new();
            for item in items {
                if !seen.insert(item.external_id.as_str()) {
                    results.push(Err(ItemConflict::conflict("/external_id", "appears more than once in this request")));
                    continue;
                }
                if deleted.contains(&item.external_id) {
                    results.push(Err(ItemConflict::conflict(
                        "/external_id",
                        "names a record its person deleted; it is not brought back",
                    )));
                    continue;
                }
                match existing.get(&item.external_id) {
                    Some(current) if current.person_id != item.person_id => {
                        results.push(Err(ItemConflict::conflict(
                            "/person_id",
                            "this external id names another person's record; a record never changes owner",
                        )));
                    }
                    // The link to a solution is the person's, not the HR system's: a sync
                    // keeps it.
                    Some(current)
                        if current.content
                            == RecordContent { solution_id: current.content.solution_id, ..item.content.clone() } =>
                    {
                        results.push(Ok(RecordUpsertOutcome {
                            id: current.id,
                            version: current.version,
                            result: Upserted::Unchanged,
                        }));
                    }
                    Some(current) => {
                        let next = LearningRecord {
                            content: RecordContent { solution_id: current.content.solution_id, ..item.content.clone() },
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        results.push(Ok(RecordUpsertOutcome {
                            id: next.id,
                            version: next.version,
                            result: Upserted::Updated,
                        }));
                        updated.push((current.clone(), next));
                    }
                    None => {
                        let record = LearningRecord {
                            id: crate::db::ids::new_id(crate::db::ids::Kind::LearningRecord),
                            person_id: item.person_id,
                            content: item.content.clone(),
                            sharing: Sharing::default(),
                            source: source.to_string(),
                            external_ref: Some(RecordRef {
                                scope: organisation,
                                system: system.to_string(),
                                external_id: item.external_id.clone(),
                            }),
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        results.push(Ok(RecordUpsertOutcome { id: record.id, version: 1, result: Upserted::Created }));
                        created.push(record);
                    }
                }
            }
            let mut changes = Vec::with_capacity(created.len() + updated.len());
            let fresh: Vec<&LearningRecord> = created.iter().collect();
            (*tx).insert_records(&fresh).await?;
            for r in &created {
                changes.extend(change_entries(None, r)?);
            }
            for (before, after) in &updated {
                if !(*tx).update_record_row(after, before.version).await? {
                    return Err(StoreError::VersionMismatch { current: before.version });
                }
                changes.extend(change_entries(Some(before), after)?);
            }
            for chunk in changes.chunks(2_000) {
                (*tx).record(chunk).await?;
            }
            tx.commit().await?;
            Ok(results)
        }
        .await)
    }
}
