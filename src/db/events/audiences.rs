//! Who the feed tells of an event's changes, its registrations and commitments.

use super::*;

/// Who sees a commitment besides its owner and facilitators.
pub fn commitment_audience(c: &Commitment, event: &Event) -> Vec<Uuid> {
    commitment_audience_of(c, &event.organisers())
}

pub(super) fn commitment_audience_of(c: &Commitment, organisers: &[Uuid]) -> Vec<Uuid> {
    let mut audience = vec![c.person_id];
    if c.content.shared_with_organiser {
        audience.extend(organisers.iter().copied().map(admins_of));
    }
    if let Some(org) = c.content.shared_with_organisation {
        audience.push(admins_of(org));
    }
    audience.sort_unstable();
    audience.dedup();
    audience
}

/// Who sees a registration besides facilitators: the person, the event's organisers and
/// the organisation that registered the person.
pub fn registration_audience(r: &Registration, event: &Event) -> Vec<Uuid> {
    let mut audience = vec![r.person_id];
    audience.extend(event.organisers());
    audience.extend(r.organisation_id);
    audience.sort_unstable();
    audience.dedup();
    audience
}

/// The feed entry of an event as it now is.
/// An event's organisers as they are now, with the event's row locked to the end of the
/// transaction. A commitment's audience is computed from them: `update_event` holds the same
/// lock while it changes the organisers and re-addresses the event's commitments, so the two
/// never interleave (PostgreSQL reads committed data; a plain read could be stale by commit).
pub(crate) async fn locked_organisers<'c, E>(conn: E, event: Uuid) -> StoreResult<Vec<Uuid>>
where
    E: sqlx::Acquire<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
    for<'r> (Uuid,): sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let mut conn = conn.acquire().await?;
    sqlx::query("update events set arrivals = arrivals where id = $1").bind(event).execute(&mut *conn).await?;
    let rows: Vec<(Uuid,)> = sqlx::query_as("select organisation_id from event_organisers where event_id = $1")
        .bind(event)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|(o,)| o).collect())
}

/// The feed change of a commitment as it now is, addressed with [`locked_organisers`].
pub(crate) async fn commitment_change_in<'c, E>(conn: E, c: &Commitment) -> StoreResult<Change>
where
    E: sqlx::Acquire<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
    for<'r> (Uuid,): sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let organisers = locked_organisers(conn, c.event_id).await?;
    Change::of(c, false, commitment_audience_of(c, &organisers))
}

/// When an event's organisers change, what goes to its organisers goes to the new ones:
/// its registrations, the commitments shared with the organiser and, for a draft, the
/// event itself. Organisers dropped get tombstones.
pub(super) async fn readdress_to_organisers<'c, E>(conn: E, before: &Event, after: &Event) -> StoreResult<Vec<Change>>
where
    E: sqlx::Acquire<'c>,
    for<'r> RegistrationRow: sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
    for<'r> CommitmentRow: sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> bool: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
    for<'e> &'e mut <E::Database as sqlx::Database>::Connection: sqlx::Executor<'e, Database = E::Database>,
{
    let mut conn = conn.acquire().await?;
    let now_organisers = after.organisers();
    let dropped: Vec<Uuid> = before.organisers().into_iter().filter(|o| !now_organisers.contains(o)).collect();
    let mut changes = Vec::new();
    let withdrawn = |audience: &[Uuid], from: Vec<Uuid>| -> Vec<Uuid> {
        from.into_iter().filter(|a| !audience.contains(a)).collect()
    };
    if !after.status.is_public() {
        let gone = withdrawn(&draft_audience(after), dropped.iter().copied().map(admins_of).collect());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Event, after.id, after.version, gone));
        }
    }
    let regs: Vec<RegistrationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{REGISTRATION_SELECT} where r.event_id = $1")))
            .bind(after.id)
            .fetch_all(&mut *conn)
            .await?;
    for row in regs {
        let r = Registration::try_from(row)?;
        let audience = registration_audience(&r, after);
        let gone = withdrawn(&audience, dropped.clone());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Registration, r.id, r.version, gone));
        }
        changes.push(Change::of(&r, false, audience)?);
    }
    let shared: Vec<CommitmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COMMITMENT_COLUMNS} from commitments where event_id = $1 and shared_with_organiser = $2"
    )))
    .bind(after.id)
    .bind(true)
    .fetch_all(&mut *conn)
    .await?;
    for row in shared {
        let c = Commitment::try_from(row)?;
        let audience = commitment_audience(&c, after);
        let gone = withdrawn(&audience, dropped.iter().copied().map(admins_of).collect());
        if !gone.is_empty() {
            changes.push(Change::withdraw(ResourceType::Commitment, c.id, c.version, gone));
        }
        changes.push(Change::of(&c, false, audience)?);
    }
    Ok(changes)
}

/// Drafts go to the organisers' admins only: integration clients do not read them.
pub fn event_change(event: &Event) -> StoreResult<Change> {
    Change::of(event, event.status.is_public(), draft_audience(event))
}

pub(super) fn draft_audience(event: &Event) -> Vec<Uuid> {
    event.organisers().into_iter().map(admins_of).collect()
}
