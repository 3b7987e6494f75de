//! Commitments people make at events.

use super::*;

/// Counts of commitments made at an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitmentSummary {
    /// Registrations holding a seat (confirmed, attended, no-show).
    pub participants: i64,
    pub attended: i64,
    /// Participants with at least one commitment.
    pub participants_with_commitments: i64,
    pub commitments: i64,
    pub planned: i64,
    pub in_progress: i64,
    pub done: i64,
    pub dropped: i64,
}

impl Store {
    // ---- commitments ----

    #[tracing::instrument(skip(self, content))]
    pub async fn create_commitment(
        &self,
        event: &Event,
        person_id: Uuid,
        content: &CommitmentContent,
    ) -> StoreResult<Commitment> {
        let at = now();
        let c = Commitment {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Commitment),
            event_id: event.id,
            person_id,
            content: content.clone(),
            learning_record_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let changes = [commitment_change_in(&mut *tx, &c).await?];
            // Only participants commit; checked in the transaction, so a seat given up
            // meanwhile counts.
            let seated: i64 = sqlx::query_scalar(
                "select count(*) from registrations
                 where event_id = $1 and person_id = $2 and status in ('confirmed', 'attended', 'no_show')",
            )
            .bind(event.id)
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?;
            if seated == 0 {
                return Err(StoreError::Forbidden(
                    "Only the event's participants (a confirmed or attended registration) record commitments.".into(),
                ));
            }
            sqlx::query(
                "insert into commitments (id, event_id, person_id, text, due_on, status, theme, shared_with_organiser,
                     shared_with_organisation, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1)",
            )
            .bind(c.id)
            .bind(c.event_id)
            .bind(person_id)
            .bind(&content.text)
            .bind(content.due_on)
            .bind(content.status.as_str())
            .bind(&content.theme)
            .bind(content.shared_with_organiser)
            .bind(content.shared_with_organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)?;
        Ok(c)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_commitment(&self, id: Uuid) -> StoreResult<Commitment> {
        self.one_by_id::<CommitmentRow, _>(format!("select {COMMITMENT_COLUMNS} from commitments where id = $1"), id)
            .await
    }

    /// Commitments of an event or a person that `viewer` may read: their own, and those
    /// shared with an organisation in `organisations` (as organiser or as the person's
    /// organisation). `viewer` `None` reads all (facilitators).
    #[tracing::instrument(skip(self))]
    pub async fn list_commitments(
        &self,
        event_id: Option<Uuid>,
        person_id: Option<Uuid>,
        viewer: Option<(Uuid, Vec<Uuid>)>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Commitment>> {
        let rows: Vec<CommitmentRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {COMMITMENT_COLUMNS} from commitments c where 1 = 1"));
            if let Some(e) = event_id {
                qb.push(" and c.event_id = ").push_bind(e);
            }
            if let Some(person) = person_id {
                qb.push(" and c.person_id = ").push_bind(person);
            }
            if let Some((me, orgs)) = &viewer {
                qb.push(" and (c.person_id = ").push_bind(*me);
                if !orgs.is_empty() {
                    qb.push(" or c.shared_with_organisation in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(") or (c.shared_with_organiser = ").push_bind(true);
                    qb.push(" and exists (select 1 from event_organisers eo where eo.event_id = c.event_id and eo.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(")))");
                }
                qb.push(")");
            }
            if let Some(after) = after {
                qb.push(" and (c.created_at, c.id) > (");
                match &after.value {
                    SortValue::Time(t) => qb.push_bind(*t),
                    SortValue::Text(s) => qb.push_bind(s.clone()),
                };
                qb.push(", ").push_bind(after.id).push(")");
            }
            qb.push(" order by c.created_at, c.id limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Commitment>::try_from_rows(rows, limit, |c| Keyset { value: SortValue::Time(c.created_at), id: c.id })
    }

    /// Replaces a commitment's content if its version is still `expected_version`. When it
    /// stops being shared with someone, they get a tombstone before the update.
    #[tracing::instrument(skip(self, current, content))]
    pub async fn update_commitment(
        &self,
        current: &Commitment,
        expected_version: i64,
        content: &CommitmentContent,
    ) -> StoreResult<Commitment> {
        let at = now();
        let updated =
            Commitment { content: content.clone(), updated_at: at, version: current.version + 1, ..current.clone() };
        let n = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let organisers = locked_organisers(&mut *tx, current.event_id).await?;
            let before = commitment_audience_of(current, &organisers);
            let after = commitment_audience_of(&updated, &organisers);
            let dropped: Vec<Uuid> = before.iter().filter(|a| !after.contains(a)).copied().collect();
            let mut changes = Vec::new();
            if !dropped.is_empty() {
                changes.push(Change::withdraw(ResourceType::Commitment, current.id, updated.version, dropped));
            }
            changes.push(Change::of(&updated, false, after)?);
            let n = sqlx::query(
                "update commitments set text = $3, due_on = $4, status = $5, theme = $6, shared_with_organiser = $7,
                     shared_with_organisation = $8, updated_at = $9, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(current.id)
            .bind(expected_version)
            .bind(&content.text)
            .bind(content.due_on)
            .bind(content.status.as_str())
            .bind(&content.theme)
            .bind(content.shared_with_organiser)
            .bind(content.shared_with_organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n)
        }
        .await)?;
        if n == 1 { Ok(updated) } else { Err(self.current_version_error("commitments", current.id).await?) }
    }

    #[tracing::instrument(skip(self, current))]
    pub async fn delete_commitment(&self, current: &Commitment, expected_version: Option<i64>) -> StoreResult<()> {
        let n = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let organisers = locked_organisers(&mut *tx, current.event_id).await?;
            let tombstone = Change::delete(
                ResourceType::Commitment,
                current.id,
                current.version + 1,
                false,
                commitment_audience_of(current, &organisers),
            );
            let n = sqlx::query("delete from commitments where id = $1 and ($2 is null or version = $2)")
                .bind(current.id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                (*tx).record(&[tombstone]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n)
        }
        .await)?;
        if n == 1 { Ok(()) } else { Err(self.current_version_error("commitments", current.id).await?) }
    }

    /// Participation and commitment counts of an event.
    #[tracing::instrument(skip(self))]
    pub async fn commitment_summary(&self, event_id: Uuid) -> StoreResult<CommitmentSummary> {
        let (participants, attended): (i64, i64) = on_pool!(self.reader(), |p| sqlx::query_as(
            "select count(*), coalesce(sum(case when status = 'attended' then 1 else 0 end), 0)
             from registrations where event_id = $1 and status in ('confirmed', 'attended', 'no_show')"
        )
        .bind(event_id)
        .fetch_one(p)
        .await)?;
        let counts: Vec<(String, i64)> = on_pool!(self.reader(), |p| sqlx::query_as(
            "select status, count(*) from commitments where event_id = $1 group by status"
        )
        .bind(event_id)
        .fetch_all(p)
        .await)?;
        let with: i64 = on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select count(distinct person_id) from commitments where event_id = $1"
        )
        .bind(event_id)
        .fetch_one(p)
        .await)?;
        let mut s =
            CommitmentSummary { participants, attended, participants_with_commitments: with, ..Default::default() };
        for (status, n) in counts {
            s.commitments += n;
            match CommitmentStatus::parse(&status) {
                Some(CommitmentStatus::Planned) => s.planned = n,
                Some(CommitmentStatus::InProgress) => s.in_progress = n,
                Some(CommitmentStatus::Done) => s.done = n,
                Some(CommitmentStatus::Dropped) => s.dropped = n,
                None => return Err(invalid_stored("commitment status")),
            }
        }
        Ok(s)
    }
}
