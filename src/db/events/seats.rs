//! Registrations: seats handed out in order, the waitlist, cancellations, attendance.

use super::*;
use crate::db::ids::{Kind, new_id};

impl Store {
    // ---- registrations ----

    /// Registers `person` for `event`: a seat while there is one, else the waitlist.
    /// `organisation` is who registered the person, when not the person themself.
    ///
    /// Concurrent registrations for one event in this process wait in one lane and are
    /// written together, in order of arrival, in one transaction under the seat lock: a
    /// group commit that keeps the lock (held to commit on PostgreSQL) from capping the
    /// rate at one commit per registration. Each caller still gets its own answer.
    #[tracing::instrument(skip(self))]
    pub async fn register(
        &self,
        event_id: Uuid,
        person_id: Uuid,
        organisation: Option<Uuid>,
    ) -> Result<(Registration, Event), RegisterError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let lead = {
            let mut lanes = self.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let lane = lanes.entry(event_id).or_default();
            lane.waiting.push(Waiting { id: new_id(Kind::Registration), person: person_id, organisation, reply });
            !std::mem::replace(&mut lane.draining, true)
        };
        if lead {
            let store = self.clone();
            tokio::spawn(async move { store.drain_lane(event_id).await });
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Other(anyhow::anyhow!("the registration lane stopped")).into()))
    }

    /// Writes the lane of `event_id` batch by batch until it is empty.
    async fn drain_lane(&self, event_id: Uuid) {
        // Closes the lane however this ends (a panic included): waiting callers get an
        // error instead of waiting forever, and the next registration opens a new lane.
        struct Close<'a>(&'a Store, Uuid, bool);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                if self.2 {
                    let mut lanes = self.0.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    lanes.remove(&self.1);
                }
            }
        }
        let mut close = Close(self, event_id, true);
        loop {
            let batch: Vec<Waiting> = {
                let mut lanes = self.seat_lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let Some(lane) = lanes.get_mut(&event_id) else { return };
                if lane.waiting.is_empty() {
                    // Under the same lock as the check: a registration arriving now finds
                    // no lane and opens a new one.
                    lanes.remove(&event_id);
                    close.2 = false;
                    return;
                }
                let n = lane.waiting.len().min(LANE_BATCH);
                lane.waiting.drain(..n).collect()
            };
            let items: Vec<(Uuid, Uuid, Option<Uuid>)> =
                batch.iter().map(|w| (w.id, w.person, w.organisation)).collect();
            let results = match self.register_batch(event_id, &items).await {
                Ok(results) => results,
                // One item broke the whole transaction (say, a person deleted meanwhile):
                // each goes alone, so that it fails alone.
                Err(_) if items.len() > 1 => {
                    let mut results = Vec::with_capacity(items.len());
                    for item in &items {
                        results.push(match self.register_batch(event_id, std::slice::from_ref(item)).await {
                            Ok(mut one) => one.pop().unwrap_or_else(|| Err(StoreError::NotFound.into())),
                            Err(e) => Err(e.into()),
                        });
                    }
                    results
                }
                Err(e) => vec![Err(e.into())],
            };
            for (waiting, result) in batch.into_iter().zip(results) {
                let _ = waiting.reply.send(result);
            }
        }
    }

    /// Registers `items` (new registration id, person, registering organisation) for an event in one transaction,
    /// in order. A closed event refuses them all; someone already registered is refused
    /// alone. `Err` when the transaction itself failed.
    async fn register_batch(
        &self,
        event_id: Uuid,
        items: &[(Uuid, Uuid, Option<Uuid>)],
    ) -> StoreResult<Vec<Result<(Registration, Event), RegisterError>>> {
        let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let Some((event, arrivals)) = (*tx).lock_event(event_id, n).await? else {
                return Ok(items.iter().map(|_| Err(StoreError::NotFound.into())).collect());
            };
            // Taken under the lock, so that creation time follows the order of arrival.
            let at = now();
            if let Some(reason) = event.content.registration_closed_reason(event.status, at) {
                let event = Box::new(event);
                return Ok(items
                    .iter()
                    .map(|_| Err(RegisterError::Closed { reason: reason.clone(), event: event.clone() }))
                    .collect());
            }
            let mut qb = QueryBuilder::<DB>::new(
                "select person_id, id from registrations where status <> 'cancelled' and event_id = ",
            );
            qb.push_bind(event_id).push(" and person_id in (");
            let mut list = qb.separated(", ");
            for (_, person, _) in items {
                list.push_bind(*person);
            }
            qb.push(")");
            let mut active: Vec<(Uuid, Uuid)> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
            let mut seats = event.seats;
            let mut outcome: Vec<Result<Uuid, RegisterError>> = Vec::with_capacity(items.len());
            let mut rows: Vec<(Uuid, Uuid, RegistrationStatus, i64, Option<Uuid>)> = Vec::new();
            for (i, (id, person, organisation)) in items.iter().enumerate() {
                if let Some((_, existing)) = active.iter().find(|(p, _)| p == person) {
                    outcome.push(Err(RegisterError::AlreadyRegistered(*existing)));
                    continue;
                }
                let status = match event.content.capacity {
                    Some(c) if seats.taken >= c => {
                        seats.waitlist += 1;
                        RegistrationStatus::Waitlisted
                    }
                    _ => {
                        seats.taken += 1;
                        RegistrationStatus::Confirmed
                    }
                };
                let arrival = arrivals - n + 1 + i64::try_from(i).unwrap_or(0);
                rows.push((*id, *person, status, arrival, *organisation));
                active.push((*person, *id));
                outcome.push(Ok(*id));
            }
            if rows.is_empty() {
                tx.commit().await?;
                // Every item was refused; nothing to write.
                return Ok(outcome.into_iter().map(|o| o.and_then(|_| Err(StoreError::NotFound.into()))).collect());
            }
            let mut qb = QueryBuilder::<DB>::new(
                "insert into registrations (id, event_id, person_id, status, arrival, organisation_id, created_at, \
                 updated_at, version) ",
            );
            qb.push_values(&rows, |mut row, (id, person, status, arrival, organisation)| {
                row.push_bind(*id)
                    .push_bind(event_id)
                    .push_bind(*person)
                    .push_bind(status.as_str())
                    .push_bind(*arrival)
                    .push_bind(*organisation)
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(1_i64);
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
            let saved = (*tx).save_seats(&event, seats, at).await?;
            let mut qb = QueryBuilder::<DB>::new(REGISTRATION_SELECT);
            qb.push(" where r.id in (");
            let mut list = qb.separated(", ");
            for (id, ..) in &rows {
                list.push_bind(*id);
            }
            qb.push(")");
            let loaded: Vec<RegistrationRow> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
            let loaded = loaded.into_iter().map(Registration::try_from).collect::<StoreResult<Vec<_>>>()?;
            let mut changes = Vec::with_capacity(loaded.len() + 1);
            for (id, ..) in &rows {
                let reg = loaded.iter().find(|r| r.id == *id).ok_or(StoreError::NotFound)?;
                changes.push(Change::of(reg, false, registration_audience(reg, &saved))?);
            }
            changes.push(event_change(&saved)?);
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(outcome
                .into_iter()
                .map(|o| {
                    o.and_then(|id| {
                        let reg = loaded.iter().find(|r| r.id == id).cloned().ok_or(StoreError::NotFound)?;
                        Ok((reg, saved.clone()))
                    })
                })
                .collect())
        }
        .await)
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_registration(&self, id: Uuid) -> StoreResult<Registration> {
        self.one_by_id::<RegistrationRow, _>(format!("{REGISTRATION_SELECT} where r.id = $1"), id).await
    }

    /// Registrations of an event (all, or only those of `people` / made by `organisations`),
    /// in order of arrival, after `after_arrival`.
    #[tracing::instrument(skip(self))]
    pub async fn list_registrations(
        &self,
        event_id: Option<Uuid>,
        person_id: Option<Uuid>,
        visible_to: Option<(Uuid, Vec<Uuid>)>,
        status: Option<RegistrationStatus>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Registration>> {
        let rows: Vec<RegistrationRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(REGISTRATION_SELECT);
            qb.push(" where 1 = 1");
            if let Some(e) = event_id {
                qb.push(" and r.event_id = ").push_bind(e);
            }
            if let Some(person) = person_id {
                qb.push(" and r.person_id = ").push_bind(person);
            }
            if let Some((me, orgs)) = &visible_to {
                qb.push(" and (r.person_id = ").push_bind(*me);
                if !orgs.is_empty() {
                    qb.push(" or r.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push(") or exists (select 1 from event_organisers eo where eo.event_id = r.event_id and eo.organisation_id in (");
                    let mut list = qb.separated(", ");
                    for o in orgs {
                        list.push_bind(*o);
                    }
                    qb.push("))");
                }
                qb.push(")");
            }
            if let Some(s) = status {
                qb.push(" and r.status = ").push_bind(s.as_str());
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
        Page::<Registration>::try_from_rows(rows, limit, |r| Keyset { value: SortValue::Time(r.created_at), id: r.id })
    }

    /// Cancels a registration; a freed seat goes to the first on the waitlist in the same
    /// transaction. Cancelling twice changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn cancel_registration(&self, id: Uuid) -> StoreResult<(Registration, bool)> {
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let event_id: Option<Uuid> = sqlx::query_scalar("select event_id from registrations where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(event_id) = event_id else { return Err(StoreError::NotFound) };
            let Some((event, _)) = (*tx).lock_event(event_id, 0).await? else { return Err(StoreError::NotFound) };
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            if reg.status == RegistrationStatus::Cancelled {
                return Ok((reg, false));
            }
            let (changes, _) = (*tx).cancel(&reg, &event, at).await?;
            (*tx).record(&changes).await?;
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok((reg, true))
        }
        .await)
    }

    /// Records attendance: `attended` (check-in) or `no_show`. Recording the status a
    /// registration already has changes nothing. Returns whether it changed.
    #[tracing::instrument(skip(self))]
    pub async fn record_attendance(&self, id: Uuid, status: RegistrationStatus) -> StoreResult<(Registration, bool)> {
        debug_assert!(matches!(status, RegistrationStatus::Attended | RegistrationStatus::NoShow));
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let event_id: Option<Uuid> = sqlx::query_scalar("select event_id from registrations where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(event_id) = event_id else { return Err(StoreError::NotFound) };
            let Some((event, _)) = (*tx).lock_event(event_id, 0).await? else { return Err(StoreError::NotFound) };
            let reg = (*tx).load_registration(id).await?.ok_or(StoreError::NotFound)?;
            if reg.status == status {
                return Ok((reg, false));
            }
            if !reg.status.holds_seat() {
                return Err(StoreError::conflict(
                    Rule::RegistrationState,
                    format!(
                        "A {} registration holds no seat; only confirmed participants are checked in or marked absent.",
                        reg.status.as_str()
                    ),
                ));
            }
            if !matches!(event.status, EventStatus::Published | EventStatus::Completed) {
                return Err(StoreError::conflict(
                    Rule::RegistrationState,
                    format!("The event is {}.", event.status.as_str()),
                ));
            }
            let starts = event.content.starts_at;
            match status {
                RegistrationStatus::Attended
                    if at < starts - chrono::Duration::hours(crate::domain::event::CHECK_IN_OPENS_HOURS) =>
                {
                    return Err(StoreError::conflict(
                        Rule::RegistrationState,
                        format!(
                            "Check-in opens {} hours before the event starts.",
                            crate::domain::event::CHECK_IN_OPENS_HOURS
                        ),
                    ));
                }
                RegistrationStatus::NoShow if at < starts => {
                    return Err(StoreError::conflict(
                        Rule::RegistrationState,
                        "A no-show is recorded once the event has started.",
                    ));
                }
                _ => {}
            }
            let checked_in = match status {
                RegistrationStatus::Attended => Some(reg.checked_in_at.unwrap_or(at)),
                _ => None,
            };
            let reg = (*tx).set_registration_status(id, status, checked_in, at).await?;
            (*tx).record(&[Change::of(&reg, false, registration_audience(&reg, &event))?]).await?;
            tx.commit().await?;
            Ok((reg, true))
        }
        .await)
    }
}
