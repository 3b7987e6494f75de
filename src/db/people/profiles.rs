//! People: rights as stored, profiles, roles, passwords, deletion and erasure.

use super::*;

impl Store {
    /// A person's network role and the organisations they administer today, in one
    /// round trip; `None` when the person does not exist (any more). Kept for a second
    /// (see [`crate::db::rights_cache`]).
    #[tracing::instrument(skip(self))]
    pub async fn person_rights(
        &self,
        person_id: Uuid,
        today: NaiveDate,
    ) -> StoreResult<Option<(PersonRole, Vec<Uuid>)>> {
        use crate::db::rights_cache::{Entry, Lookup};
        let generation = match self.rights.get(person_id, today) {
            Lookup::Hit(Entry::Person(rights)) => return Ok(rights),
            Lookup::Hit(Entry::Client(_)) => self.rights.generation(),
            Lookup::Miss(generation) => generation,
        };
        let rows: Vec<(String, Option<Uuid>)> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select p.role, m.organisation_id from people p
                 left join memberships m on m.person_id = p.id and m.role = 'org_admin'
                      and m.starts_on <= $2 and (m.ends_on is null or m.ends_on >= $2)
                 where p.id = $1",
            )
            .bind(person_id)
            .bind(today)
            .fetch_all(p)
            .await
        })?;
        let rights = match rows.first() {
            None => None,
            Some((role, _)) => Some((
                PersonRole::parse(role).ok_or_else(|| invalid_stored("role"))?,
                rows.iter().filter_map(|(_, org)| *org).collect(),
            )),
        };
        self.rights.put(person_id, today, generation, Entry::Person(rights.clone()));
        Ok(rights)
    }

    /// `(person, organisation)` for every membership of `people` (current or not).
    pub async fn memberships_of_people(&self, people: &[Uuid]) -> StoreResult<Vec<(Uuid, Uuid)>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb =
                QueryBuilder::<DB>::new("select person_id, organisation_id from memberships where person_id in (");
            let mut list = qb.separated(", ");
            for id in people {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?)
    }

    /// Every membership of `people` (current or not) with its organisation's name, in
    /// order of that name: one statement, cached (see `padded_list`).
    pub async fn ties(&self, people: &[Uuid]) -> StoreResult<Vec<Tie>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<TieRow> =
            on_pool!(self.reader(), |p, DB| ties_query::<DB>(people).build_query_as().fetch_all(p).await)?;
        Ok(rows.into_iter().map(Tie::from).collect())
    }

    /// A person with every membership of theirs (see [`Store::ties`]), in one statement.
    #[tracing::instrument(skip(self))]
    pub async fn get_person_tied(&self, id: Uuid) -> StoreResult<(Person, Vec<Tie>)> {
        let rows: Vec<PersonTieRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select p.id, p.email, p.display_name, p.role, p.stakeholder_group, p.birth_year, p.age_band,
                        p.languages, p.created_at, p.updated_at, p.version,
                        m.organisation_id, o.name as organisation_name, m.starts_on, m.ends_on
                 from people p
                 left join memberships m on m.person_id = p.id
                 left join organisations o on o.id = m.organisation_id
                 where p.id = $1
                 order by o.name, m.organisation_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        let mut ties = Vec::with_capacity(rows.len());
        let mut person = None;
        for row in rows {
            if let (Some(organisation_id), Some(name), Some(starts_on)) =
                (row.organisation_id, row.organisation_name, row.starts_on)
            {
                ties.push(Tie { person_id: id, organisation_id, name, starts_on, ends_on: row.ends_on });
            }
            if person.is_none() {
                person = Some(row.person);
            }
        }
        Ok((person.ok_or(StoreError::NotFound)?.try_into()?, ties))
    }

    /// `(person, organisation id, organisation name)` for every current membership of `people`.
    pub async fn affiliations(&self, people: &[Uuid], today: NaiveDate) -> StoreResult<Vec<(Uuid, Uuid, String)>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(
                "select distinct m.person_id, o.id, o.name from memberships m join organisations o on o.id = m.organisation_id
                 where m.starts_on <= ",
            );
            qb.push_bind(today).push(" and (m.ends_on is null or m.ends_on >= ").push_bind(today).push(")");
            qb.push(" and m.person_id in (");
            let mut list = qb.separated(", ");
            for id in crate::db::padded_list(people) {
                list.push_bind(id);
            }
            qb.push(") order by o.name");
            // One of a few texts (see `padded_list`): prepared once per connection and cached.
            qb.build_query_as().fetch_all(p).await
        })?)
    }

    #[tracing::instrument(skip(self, filter))]
    pub async fn list_people(
        &self,
        filter: &PersonFilter,
        today: NaiveDate,
        sort: Sort<PersonSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<(Page<Person>, Vec<Tie>)> {
        if filter.within.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Page { items: vec![], next: None }, vec![]));
        }
        // The page and its people's memberships on one connection: one checkout.
        let (rows, ties): (Vec<PersonRow>, Vec<TieRow>) = on_pool!(self.reader(), |p, DB| {
            let mut conn = p.acquire().await?;
            let mut qb = QueryBuilder::<DB>::new(format!("select {PERSON_COLUMNS} from people where 1 = 1"));
            if let Some(within) = &filter.within {
                qb.push(
                    " and exists (select 1 from memberships m where m.person_id = people.id and m.organisation_id in (",
                );
                let mut list = qb.separated(", ");
                for id in within {
                    list.push_bind(*id);
                }
                qb.push("))");
            }
            if let Some(org) = filter.organisation_id {
                qb.push(
                    " and exists (select 1 from memberships m where m.person_id = people.id and m.organisation_id = ",
                )
                .push_bind(org);
                if !filter.include_former {
                    qb.push(" and m.starts_on <= ")
                        .push_bind(today)
                        .push(" and (m.ends_on is null or m.ends_on >= ")
                        .push_bind(today)
                        .push(")");
                }
                qb.push(")");
            }
            if let Some(ids) = &filter.ids {
                qb.push(" and id in (");
                let mut list = qb.separated(", ");
                list.push_bind(Uuid::nil());
                for id in ids {
                    list.push_bind(*id);
                }
                qb.push(")");
            }
            if let Some(r) = &filter.external_ref {
                qb.push(" and exists (select 1 from external_refs x where x.resource_id = people.id")
                    .push(" and x.resource_type = ")
                    .push_bind(ResourceType::Person.as_str());
                if let Some(id) = &r.external_id {
                    qb.push(" and x.external_id = ").push_bind(id.as_str());
                }
                if let Some(system) = &r.system {
                    qb.push(" and x.system = ").push_bind(system.as_str());
                }
                if let Some(scopes) = &r.scopes {
                    qb.push(" and x.scope_id in (");
                    let mut list = qb.separated(", ");
                    list.push_bind(Uuid::nil());
                    for s in scopes {
                        list.push_bind(*s);
                    }
                    qb.push(")");
                }
                qb.push(")");
            }
            if let Some(after) = filter.updated_after {
                qb.push(" and updated_at > ").push_bind(after);
            }
            if let Some(group) = filter.stakeholder_group {
                qb.push(" and stakeholder_group = ").push_bind(group.as_str());
            }
            if let Some(q) = filter.q.as_deref() {
                qb.push(" and search_text like ").push_bind(contains_pattern(&fold(q))).push(" escape '\\'");
            }
            sort.push_page(&mut qb, after, limit);
            let rows: Vec<PersonRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
            let people: Vec<Uuid> = rows.iter().take(limit).map(|r| r.id).collect();
            let ties = if people.is_empty() {
                vec![]
            } else {
                ties_query::<DB>(&people).build_query_as().fetch_all(&mut *conn).await?
            };
            (rows, ties)
        });
        let page = Page::<Person>::try_from_rows(rows, limit, |person| {
            let value = match sort.field {
                PersonSort::Name => SortValue::Text(person.content.name.clone()),
                PersonSort::CreatedAt => SortValue::Time(person.created_at),
                PersonSort::UpdatedAt => SortValue::Time(person.updated_at),
            };
            Keyset { value, id: person.id }
        })?;
        Ok((page, ties.into_iter().map(Tie::from).collect()))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_person(&self, id: Uuid) -> StoreResult<Person> {
        let row: Option<PersonRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, email, display_name, role, stakeholder_group, birth_year, age_band, languages, created_at,
                        updated_at, version
                 from people where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Creates a person, with a first membership when given.
    #[tracing::instrument(skip(self, content, password_hash))]
    pub async fn create_person(
        &self,
        content: &PersonContent,
        role: PersonRole,
        password_hash: Option<&str>,
        membership: Option<(Uuid, MembershipTerms)>,
    ) -> StoreResult<(Person, Option<Membership>)> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let at = now();
        let person = Person {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Person),
            content: content.clone(),
            role,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let membership = membership.map(|(organisation_id, terms)| Membership {
            id: crate::db::ids::new_id(crate::db::ids::Kind::Membership),
            person_id: person.id,
            organisation_id,
            terms,
            created_at: at,
            updated_at: at,
            version: 1,
        });
        let orgs: Vec<Uuid> = membership.iter().map(|m| m.organisation_id).collect();
        let mut changes = vec![person_change(&person, &orgs)?];
        if let Some(m) = &membership {
            changes.push(membership_change(m)?);
        }
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx)
                .insert_people(std::slice::from_ref(&person), password_hash)
                .await
                .map_err(|e| email_conflict(e, &content.email))?;
            if let Some(m) = &membership {
                (*tx).insert_memberships(std::slice::from_ref(m)).await?;
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok((person, membership))
    }

    /// Replaces a person's profile and network role if its version is still
    /// `expected_version`, in one transaction.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_person(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &PersonContent,
        role: PersonRole,
    ) -> StoreResult<Person> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let orgs: Vec<Uuid> = self.memberships_of_people(&[id]).await?.into_iter().map(|(_, o)| o).collect();
        let updated: Option<Person> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let row: Option<PersonRow> = sqlx::query_as(
                "update people
                 set email = $3, email_key = $4, display_name = $5, stakeholder_group = $6, birth_year = $7,
                     age_band = $8, languages = $9, search_text = $10, updated_at = $11, role = $12,
                     version = version + 1
                 where id = $1 and version = $2
                 returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                           created_at, updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(content.email.as_str())
            .bind(content.email.key())
            .bind(&content.name)
            .bind(content.stakeholder_group.as_str())
            .bind(content.birth_year)
            .bind(content.age_band.map(AgeBand::as_str))
            .bind(languages_json(&content.languages))
            .bind(search_text(content))
            .bind(now())
            .bind(role.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| email_conflict(e, &content.email))?;
            let person = row.map(Person::try_from).transpose()?;
            if let Some(person) = &person {
                (*tx).record(&[person_change(person, &orgs)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(person)
        }
        .await)?;
        self.written(updated, "people", id).await
    }

    /// Sets a person's network-wide role.
    #[tracing::instrument(skip(self))]
    pub async fn set_person_role(&self, id: Uuid, expected_version: i64, role: PersonRole) -> StoreResult<Person> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let orgs: Vec<Uuid> = self.memberships_of_people(&[id]).await?.into_iter().map(|(_, o)| o).collect();
        let updated: Option<Person> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let row: Option<PersonRow> = sqlx::query_as(
                "update people set role = $3, updated_at = $4, version = version + 1
                 where id = $1 and version = $2
                 returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                           created_at, updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(role.as_str())
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
            let person = row.map(Person::try_from).transpose()?;
            if let Some(person) = &person {
                (*tx).record(&[person_change(person, &orgs)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(person)
        }
        .await)?;
        self.written(updated, "people", id).await
    }

    /// Sets a person's password hash (credentials are not part of the resource: no version).
    pub async fn set_password_hash(&self, id: Uuid, hash: &str) -> StoreResult<()> {
        let n = execute!(self.writer(), "update people set password_hash = $2 where id = $1", id, hash)?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// Erases a person: their profile, memberships, registrations (seats go to the
    /// waitlists), commitments, records, endorsements, external references and every stored
    /// `Idempotency-Key` answer that names them, leaving tombstones without personal data in
    /// the feed. Then the database's freed space is scrubbed ([`Store::scrub_freed_space`]).
    #[tracing::instrument(skip(self))]
    pub async fn delete_person(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        self.erase_person(id, expected_version, None).await?;
        if let Err(e) = self.scrub_freed_space().await {
            // The rows are gone; only the overwrite of the space they held is late.
            tracing::warn!(error = %e, "scrubbing freed space after an erasure failed");
        }
        Ok(())
    }

    /// Erases a person who belongs to `organisation` alone and has no sign-in of their own,
    /// checked under the lock the erasure holds; gives whether they were (see
    /// [`Store::delete_person`]).
    pub(crate) async fn erase_if_only_of(&self, id: Uuid, organisation: Uuid) -> StoreResult<bool> {
        let erased = self.erase_person(id, None, Some(organisation)).await?;
        if erased && let Err(e) = self.scrub_freed_space().await {
            tracing::warn!(error = %e, "scrubbing freed space after an erasure failed");
        }
        Ok(erased)
    }

    /// `only_of`: erase only a person who belongs to that organisation alone and cannot sign
    /// in (else nothing happens, and `false`).
    async fn erase_person(&self, id: Uuid, expected_version: Option<i64>, only_of: Option<Uuid>) -> StoreResult<bool> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let deleted: Option<Option<i64>> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx).lock_people(&[id]).await?;
            if let Some(organisation) = only_of {
                let elsewhere: i64 = sqlx::query_scalar(
                    "select count(*) from memberships where person_id = $1 and organisation_id <> $2",
                )
                .bind(id)
                .bind(organisation)
                .fetch_one(&mut *tx)
                .await?;
                let signs_in = !(*tx).people_with_password(&[id]).await?.is_empty();
                if elsewhere > 0 || signs_in {
                    return Ok::<_, StoreError>(None);
                }
            }
            let current: Option<(i64, String)> = sqlx::query_as("select version, email from people where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            // Seats go back to the waitlists before the person's registrations go.
            let (released, authored) = match &current {
                Some((v, email)) if expected_version.is_none_or(|e| e == *v) => {
                    (*tx).forget_answers_about(id, email).await?;
                    let mut changes = (*tx).release_registrations(id).await?;
                    // The person's learning records go with them (tombstones stay).
                    changes.extend((*tx).forget_records_of(id).await?);
                    // So do their endorsements; what they wrote for others stays.
                    let (endorsements, authored) = (*tx).forget_endorsements_of(id).await?;
                    changes.extend(endorsements);
                    (changes, authored)
                }
                _ => (vec![], Default::default()),
            };
            let memberships: Vec<(Uuid, Uuid, i64)> =
                sqlx::query_as("select id, organisation_id, version from memberships where person_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            let version: Option<i64> = sqlx::query_scalar(
                "delete from people where id = $1 and ($2 is null or version = $2) returning version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(v) = version {
                let mut changes = released;
                changes.extend(
                    memberships.iter().map(|(m, org, mv)| {
                        Change::delete(ResourceType::Membership, *m, mv + 1, false, vec![id, *org])
                    }),
                );
                let mut audience = vec![id];
                audience.extend(memberships.iter().map(|(_, org, _)| *org));
                changes.push(Change::delete(ResourceType::Person, id, v + 1, false, audience));
                let mut ids: Vec<Uuid> = memberships.iter().map(|(m, _, _)| *m).collect();
                ids.push(id);
                (*tx).delete_refs(&ids).await?;
                // What they wrote is shown again as from a former member. Every change
                // replaces the feed's earlier entries of its resource, which carry the
                // person's data: only tombstones stay.
                changes.extend((*tx).reissue(&authored).await?);
                (*tx).record(&changes).await?;
                // Webhook receivers' answers about what was theirs go too.
                let touched: Vec<Uuid> = changes.iter().map(|c| c.resource_id).collect();
                for chunk in touched.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::new("delete from webhook_deliveries where resource_id in (");
                    let mut list = qb.separated(", ");
                    for r in chunk {
                        list.push_bind(*r);
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
                // Nobody reads as the erased person any more.
                sqlx::query("delete from change_audience where audience_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(Some(version))
        }
        .await)?;
        match deleted {
            None => Ok(false),
            Some(deleted) => self.written(deleted, "people", id).await.map(|_| true),
        }
    }
}
