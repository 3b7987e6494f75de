//! Events: the schedule, drafts, publishing, organisers, deletion.

use super::*;

/// Adds the list filters to a query over `events` (aliased `e`).
pub(super) fn push_event_filters<DB>(qb: &mut QueryBuilder<DB>, filter: &EventFilter)
where
    DB: sqlx::Database,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> DateTime<Utc>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    match &filter.drafts_of {
        None => {}
        Some(orgs) if orgs.is_empty() => {
            qb.push(" and e.status <> 'draft'");
        }
        Some(orgs) => {
            qb.push(" and (e.status <> 'draft' or exists (select 1 from event_organisers d where d.event_id = e.id and d.organisation_id in (");
            let mut list = qb.separated(", ");
            for o in orgs {
                list.push_bind(*o);
            }
            qb.push(")))");
        }
    }
    if let Some(t) = filter.starts_after {
        qb.push(" and e.starts_at >= ").push_bind(t);
    }
    if let Some(t) = filter.starts_before {
        qb.push(" and e.starts_at < ").push_bind(t);
    }
    // Slugs and group names are lowercase letters, digits, `-` and `_`: the quoted value
    // matches exactly one element of the JSON array. `_` is a LIKE wildcard, so it is escaped.
    if let Some(theme) = &filter.theme {
        qb.push(" and e.themes like ").push_bind(format!("%\"{}\"%", theme.replace('_', "\\_"))).push(" escape '\\'");
    }
    if let Some(g) = filter.stakeholder_group {
        qb.push(" and e.stakeholder_groups like ")
            .push_bind(format!("%\"{}\"%", g.as_str().replace('_', "\\_")))
            .push(" escape '\\'");
    }
    if let Some(f) = filter.format {
        qb.push(" and e.format = ").push_bind(f.as_str().to_string());
    }
    if let Some(m) = filter.mode {
        qb.push(" and e.attendance_mode = ").push_bind(m.as_str().to_string());
    }
    if let Some(s) = filter.status {
        qb.push(" and e.status = ").push_bind(s.as_str().to_string());
    }
    if let Some(org) = filter.organiser {
        qb.push(" and exists (select 1 from event_organisers o where o.event_id = e.id and o.organisation_id = ")
            .push_bind(org)
            .push(")");
    }
    if let Some(q) = filter.q.as_deref() {
        qb.push(" and e.search_text like ").push_bind(contains_pattern(&fold(q))).push(" escape '\\'");
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        sort: Sort<EventSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Event>> {
        let rows: Vec<EventRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {EVENT_COLUMNS} from events e where 1 = 1"));
            push_event_filters(&mut qb, filter);
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Event>::try_from_rows(rows, limit, |e| event_keyset(sort.field, e))
    }

    /// Every event matching `filter`, up to `max`, by start (for calendars).
    #[tracing::instrument(skip(self))]
    pub async fn calendar_events(&self, filter: &EventFilter, max: usize) -> StoreResult<Vec<Event>> {
        let page = self.list_events(filter, Sort::default(), None, max).await?;
        Ok(page.items)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_event(&self, id: Uuid) -> StoreResult<Event> {
        self.one_by_id::<EventRow, _>(format!("select {EVENT_COLUMNS} from events where id = $1"), id).await
    }

    /// The names of organisations, `(id, name)`.
    pub async fn organisation_names(&self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id, name from organisations where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(p).await
        })?)
    }

    /// Which of `ids` name no organisation.
    pub async fn missing_organisations(&self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id from organisations where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar().fetch_all(p).await
        })?;
        Ok(ids.iter().filter(|id| !found.contains(id)).copied().collect())
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_event(
        &self,
        organiser: Uuid,
        content: &EventContent,
        status: EventStatus,
    ) -> StoreResult<Event> {
        let at = now();
        let event = Event {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Event),
            organiser_id: organiser,
            content: content.clone(),
            status,
            seats: Seats::default(),
            created_at: at,
            updated_at: at,
            version: 1,
            calendar_sequence: 0,
            calendar_updated_at: at,
        };
        let changes = [event_change(&event)?];
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let c = &event.content;
            sqlx::query(
                "insert into events (id, organiser_id, title, summary, description, format, attendance_mode, starts_at,
                     ends_at, time_zone, venue, online_url, capacity, registration_opens_at, registration_closes_at,
                     co_organisers, themes, stakeholder_groups, language, status, search_text, created_at, updated_at,
                     version, calendar_sequence, calendar_updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                     $22, $22, 1, 0, $22)",
            )
            .bind(event.id)
            .bind(organiser)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.description)
            .bind(c.format.as_str())
            .bind(c.attendance_mode.as_str())
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(&c.time_zone)
            .bind(c.venue.as_ref().map(to_json))
            .bind(&c.online_url)
            .bind(c.capacity)
            .bind(c.registration_opens_at)
            .bind(c.registration_closes_at)
            .bind(to_json(&c.co_organisers))
            .bind(to_json(&c.themes))
            .bind(to_json(&c.stakeholder_groups))
            .bind(&c.language)
            .bind(status.as_str())
            .bind(search_text(c))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let mut qb = QueryBuilder::<DB>::new("insert into event_organisers (event_id, organisation_id) ");
            qb.push_values(event.organisers(), |mut row, org| {
                row.push_bind(event.id).push_bind(org);
            });
            qb.build().execute(&mut *tx).await?;
            (*tx).record(&changes).await?;
            tx.commit().await
        }
        .await)?;
        Ok(event)
    }

    /// Replaces an event's content and status if its version is still `expected_version`.
    /// Under the seat lock: a capacity below the seats taken is refused, and a larger one
    /// fills seats from the waitlist at once.
    #[tracing::instrument(skip(self))]
    pub async fn update_event(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &EventContent,
        status: EventStatus,
    ) -> StoreResult<Event> {
        let at = now();
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let Some((current, _)) = (*tx).lock_event(id, 0).await? else { return Err(StoreError::NotFound) };
            if current.version != expected_version {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            if let Some(reason) = current.status.transition_error(status, content.ends_at, at) {
                return Err(StoreError::conflict(Rule::StatusTransition, format!("The status cannot change: {reason}.")));
            }
            if let Some(capacity) = content.capacity
                && capacity < current.seats.taken
            {
                return Err(StoreError::conflict(Rule::Capacity, format!(
                    "The capacity is too low: {} seats are taken; the capacity cannot go below that (cancel registrations first).",
                    current.seats.taken
                )));
            }
            let c = content;
            let calendar_moved = current.calendar_differs(content, status);
            let row: EventRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "update events set title = $2, summary = $3, description = $4, format = $5, attendance_mode = $6,
                     starts_at = $7, ends_at = $8, time_zone = $9, venue = $10, online_url = $11, capacity = $12,
                     registration_opens_at = $13, registration_closes_at = $14, co_organisers = $15, themes = $16,
                     stakeholder_groups = $17, language = $18, status = $19, search_text = $20, updated_at = $21,
                     version = version + 1, calendar_sequence = calendar_sequence + $22,
                     calendar_updated_at = $23
                 where id = $1 returning {EVENT_COLUMNS}"
            )))
            .bind(id)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.description)
            .bind(c.format.as_str())
            .bind(c.attendance_mode.as_str())
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(&c.time_zone)
            .bind(c.venue.as_ref().map(to_json))
            .bind(&c.online_url)
            .bind(c.capacity)
            .bind(c.registration_opens_at)
            .bind(c.registration_closes_at)
            .bind(to_json(&c.co_organisers))
            .bind(to_json(&c.themes))
            .bind(to_json(&c.stakeholder_groups))
            .bind(&c.language)
            .bind(status.as_str())
            .bind(search_text(c))
            .bind(at)
            .bind(i64::from(calendar_moved))
            .bind(if calendar_moved { at } else { current.calendar_updated_at })
            .fetch_one(&mut *tx)
            .await?;
            let mut event = Event::try_from(row)?;
            if event.content.co_organisers != current.content.co_organisers {
                sqlx::query("delete from event_organisers where event_id = $1").bind(id).execute(&mut *tx).await?;
                let mut qb = QueryBuilder::<DB>::new("insert into event_organisers (event_id, organisation_id) ");
                qb.push_values(event.organisers(), |mut row, org| {
                    row.push_bind(id).push_bind(org);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let mut changes = Vec::new();
            let mut cancelled = Vec::new();
            if status == EventStatus::Cancelled && current.status != EventStatus::Cancelled {
                // Its participants learn of it from their registrations too: every seat and
                // every place on the waitlist goes with the event.
                cancelled = (*tx).cancel_all(&mut event, at).await?;
            }
            let (mut promoted, seats) = (*tx).promote(&event, at).await?;
            promoted.extend(cancelled);
            if !promoted.is_empty() {
                // The cancellations, the promotions and the new counts are part of this same
                // version.
                sqlx::query("update events set seats_taken = $2, waitlist_length = $3 where id = $1")
                    .bind(id)
                    .bind(seats.taken)
                    .bind(seats.waitlist)
                    .execute(&mut *tx)
                    .await?;
                event.seats = seats;
                for r in &promoted {
                    changes.push(Change::of(r, false, registration_audience(r, &event))?);
                }
            }
            changes.push(event_change(&event)?);
            if event.organisers() != current.organisers() {
                changes.extend(readdress_to_organisers(&mut *tx, &current, &event).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(event)
        }
        .await
        })
    }

    /// Once per database, after the upgrade that addressed draft events to their organisers'
    /// admins only (decision 9): records every draft again, so that its feed entry is
    /// addressed so and integration clients no longer find it. Several instances starting
    /// at once agree on one through the `data_repairs` row.
    #[tracing::instrument(skip(self))]
    pub async fn readdress_drafts_once(&self) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let claimed =
                sqlx::query("insert into data_repairs (name, done_at) values ($1, $2) on conflict (name) do nothing")
                    .bind("draft-events-to-admins")
                    .bind(now())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if claimed == 1 {
                let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "select {EVENT_COLUMNS} from events where status = 'draft'"
                )))
                .fetch_all(&mut *tx)
                .await?;
                let changes =
                    rows.into_iter().map(|r| event_change(&Event::try_from(r)?)).collect::<StoreResult<Vec<_>>>()?;
                for chunk in changes.chunks(1_000) {
                    (*tx).record(chunk).await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)
    }

    /// Deletes a draft event, if its version is `expected_version` when one is given.
    #[tracing::instrument(skip(self))]
    pub async fn delete_event(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let Some((current, _)) = (*tx).lock_event(id, 0).await? else { return Err(StoreError::NotFound) };
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            if current.status != EventStatus::Draft {
                return Err(StoreError::conflict(
                    Rule::NotDeletable,
                    format!(
                        "a {} event is not deleted; cancel it instead, so that its participants learn of it",
                        current.status.as_str()
                    ),
                ));
            }
            sqlx::query("delete from events where id = $1").bind(id).execute(&mut *tx).await?;
            let tombstone =
                Change::delete(ResourceType::Event, id, current.version + 1, false, draft_audience(&current));
            (*tx).record(&[tombstone]).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }
}
