//! Memberships of organisations.

use super::*;

impl Store {
    // ---- memberships ----

    /// Memberships of a person, of some organisations, or both, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_memberships(
        &self,
        person_id: Option<Uuid>,
        organisations: Option<&[Uuid]>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Membership>> {
        let sort = Sort::<MembershipSort>::default();
        let rows: Vec<MembershipRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {MEMBERSHIP_COLUMNS} from memberships where 1 = 1"));
            if let Some(person) = person_id {
                qb.push(" and person_id = ").push_bind(person);
            }
            match organisations {
                Some([]) => {
                    qb.push(" and 1 = 0");
                }
                Some(orgs) => {
                    qb.push(" and organisation_id in (");
                    let mut list = qb.separated(", ");
                    for org in orgs {
                        list.push_bind(*org);
                    }
                    qb.push(")");
                }
                None => {}
            }
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Membership>::try_from_rows(rows, limit, |m| Keyset { value: SortValue::Time(m.created_at), id: m.id })
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_membership(&self, id: Uuid) -> StoreResult<Membership> {
        let row: Option<MembershipRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, person_id, organisation_id, role, starts_on, ends_on, created_at, updated_at, version
                 from memberships where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Adds a membership. When the person joins an organisation they had no membership of,
    /// the person's own version moves on too, with that organisation in the change's
    /// audience: its admins and clients learn about the person from the feed.
    #[tracing::instrument(skip(self))]
    pub async fn create_membership(
        &self,
        person_id: Uuid,
        organisation_id: Uuid,
        terms: MembershipTerms,
    ) -> StoreResult<Membership> {
        self.create_membership_with_ref(person_id, organisation_id, terms, None).await
    }

    async fn create_membership_with_ref(
        &self,
        person_id: Uuid,
        organisation_id: Uuid,
        terms: MembershipTerms,
        reference: Option<&ExternalRef>,
    ) -> StoreResult<Membership> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let at = now();
        let m = Membership {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Membership),
            person_id,
            organisation_id,
            terms,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut changes = vec![membership_change(&m)?];
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx).lock_people(&[person_id]).await?;
            let before = (*tx).load_memberships(&[person_id]).await?;
            (*tx).insert_memberships(std::slice::from_ref(&m)).await?;
            if let Some(reference) = reference {
                (*tx).insert_ref(organisation_id, reference, ResourceType::Membership, m.id).await?;
            }
            if !before.iter().any(|b| b.organisation_id == organisation_id) {
                let row: Option<PersonRow> = sqlx::query_as(
                    "update people set version = version + 1, updated_at = $2 where id = $1
                     returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                               created_at, updated_at, version",
                )
                .bind(person_id)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                let person = Person::try_from(row.ok_or(StoreError::NotFound)?)?;
                let mut orgs: Vec<Uuid> = before.iter().map(|b| b.organisation_id).collect();
                orgs.push(organisation_id);
                changes.push(person_change(&person, &orgs)?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok(m)
    }

    #[tracing::instrument(skip(self))]
    pub async fn update_membership(
        &self,
        id: Uuid,
        expected_version: i64,
        terms: MembershipTerms,
    ) -> StoreResult<Membership> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let updated: Option<Membership> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let m = (*tx).update_membership_row(id, expected_version, terms, now()).await?;
            if let Some(m) = &m {
                (*tx).record(&[membership_change(m)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(m)
        }
        .await)?;
        self.written(updated, "memberships", id).await
    }

    /// Removes `memberships` (id, version), all of `person` in `organisation`, in one
    /// transaction; the person leaves the organisation. When those are not all of them any
    /// more, or one changed or went meanwhile, that is a conflict and nothing is removed.
    #[tracing::instrument(skip(self))]
    pub async fn delete_memberships_of(
        &self,
        person: Uuid,
        organisation: Uuid,
        memberships: &[(Uuid, i64)],
    ) -> StoreResult<()> {
        let _rights = self.rights.changing();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            (*tx).lock_people(&[person]).await?;
            // All of them, as they are now: one added meanwhile would keep the person in.
            let mut now: Vec<Uuid> =
                sqlx::query_scalar("select id from memberships where person_id = $1 and organisation_id = $2")
                    .bind(person)
                    .bind(organisation)
                    .fetch_all(&mut *tx)
                    .await?;
            let mut given: Vec<Uuid> = memberships.iter().map(|(id, _)| *id).collect();
            now.sort_unstable();
            given.sort_unstable();
            if now != given {
                return Err(StoreError::conflict(
                    Rule::ChangedMeanwhile,
                    "The memberships of this person changed meanwhile; try again.",
                ));
            }
            let mut changes = Vec::new();
            for (id, version) in memberships {
                let n = sqlx::query(
                    "delete from memberships where id = $1 and version = $2 and person_id = $3 and organisation_id = $4",
                )
                .bind(id)
                .bind(version)
                .bind(person)
                .bind(organisation)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::conflict(
                        Rule::ChangedMeanwhile,
                        "A membership of this person changed meanwhile; try again.",
                    ));
                }
                changes.push(Change::delete(ResourceType::Membership, *id, version + 1, false, vec![person, organisation]));
            }
            let ids: Vec<Uuid> = memberships.iter().map(|(id, _)| *id).collect();
            (*tx).delete_refs(&ids).await?;
            changes.extend((*tx).leave_if_last(person, organisation).await?);
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await
        })
    }

    #[tracing::instrument(skip(self))]
    pub async fn delete_membership(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let deleted: Option<(Uuid, Uuid, i64)> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let person: Option<Uuid> = sqlx::query_scalar("select person_id from memberships where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            (*tx).lock_people(person.as_slice()).await?;
            let row: Option<(Uuid, Uuid, i64)> = sqlx::query_as(
                "delete from memberships where id = $1 and ($2 is null or version = $2)
                 returning person_id, organisation_id, version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((person, org, v)) = row {
                (*tx).delete_refs(&[id]).await?;
                let mut changes = vec![Change::delete(ResourceType::Membership, id, v + 1, false, vec![person, org])];
                changes.extend((*tx).leave_if_last(person, org).await?);
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        }
        .await)?;
        self.written(deleted, "memberships", id).await.map(drop)
    }

    // ---- upserts by external reference ----

    /// Creates or updates the membership an organisation's system knows by `reference`.
    /// `Conflict` when the reference names a membership of another person.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_membership_by_ref(
        &self,
        organisation_id: Uuid,
        reference: &ExternalRef,
        person_id: Uuid,
        terms: MembershipTerms,
        rights: UpsertRights,
    ) -> StoreResult<(Membership, Upserted)> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        for attempt in 0..3 {
            let found =
                self.find_ref(organisation_id, &reference.system, ResourceType::Membership, &reference.id).await?;
            let result = match found {
                Some(id) => {
                    let current = self.get_membership(id).await?;
                    if current.person_id != person_id {
                        return Err(StoreError::conflict(
                            Rule::ReferenceOfAnotherPerson,
                            format!(
                                "the reference {}/{} names a membership of another person",
                                reference.system, reference.id
                            ),
                        ));
                    }
                    if current.terms == terms {
                        return Ok((current, Upserted::Unchanged));
                    }
                    if current.terms.role == MembershipRole::OrgAdmin && !rights.grant_admin {
                        return Err(StoreError::Forbidden(format!("The membership {ADMIN_MEMBERSHIP}.")));
                    }
                    self.update_membership(id, current.version, terms).await.map(|m| (m, Upserted::Updated))
                }
                None => self
                    .create_membership_with_ref(person_id, organisation_id, terms, Some(reference))
                    .await
                    .map(|m| (m, Upserted::Created)),
            };
            match result {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) if attempt < 2 => continue,
                other => return other,
            }
        }
        unreachable!("the loop returns on its last attempt")
    }
}
