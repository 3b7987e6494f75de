//! HR sync of people: upserts by external reference, in batches.

use super::*;

impl Store {
    /// Creates or updates people (and their membership of `organisation_id`) named by
    /// `system` references in that organisation's scope. Returns one result per item, in
    /// order; a refused item never stops the others. Runs as one transaction; if a
    /// concurrent writer makes it fail, it is retried, and finally each item runs alone.
    #[tracing::instrument(skip(self, items), fields(items = items.len()))]
    pub async fn upsert_people(
        &self,
        organisation_id: Uuid,
        system: &str,
        items: &[PersonUpsert],
        rights: UpsertRights,
    ) -> StoreResult<Vec<Result<UpsertOutcome, ItemConflict>>> {
        if system == SCIM_SYSTEM {
            return Err(StoreError::conflict(
                Rule::ReservedSystem,
                "The system `scim` holds the identity provider's `externalId`s: they are written over SCIM \
                 (/scim/v2/Users), and read here.",
            ));
        }
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        for _ in 0..3 {
            match self.upsert_people_once(organisation_id, system, items, rights).await {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => continue,
                other => return other,
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let one = self.upsert_people_once(organisation_id, system, std::slice::from_ref(item), rights).await;
            results.push(match one {
                Ok(mut r) => r.pop().expect("one result per item"),
                Err(StoreError::Conflict(c)) => Err(ItemConflict::conflict("", c.detail)),
                Err(e) => return Err(e),
            });
        }
        Ok(results)
    }

    async fn upsert_people_once(
        &self,
        organisation_id: Uuid,
        system: &str,
        items: &[PersonUpsert],
        rights: UpsertRights,
    ) -> StoreResult<Vec<Result<UpsertOutcome, ItemConflict>>> {
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;

            // What exists: references, people by reference and by e-mail, their memberships.
            let external_ids: Vec<&str> = items.iter().map(|i| i.external_id.as_str()).collect();
            let refs: HashMap<String, Uuid> =
                conn.person_refs(organisation_id, system, &external_ids).await?.into_iter().collect();
            let keys: Vec<&str> = items.iter().map(|i| i.content.email.key()).collect();
            let by_email: HashMap<String, Uuid> = conn.people_by_email(&keys).await?.into_iter().collect();
            let candidates: Vec<Uuid> =
                refs.values().chain(by_email.values()).copied().collect::<HashSet<_>>().into_iter().collect();
            conn.lock_people(&candidates).await?;
            let people: HashMap<Uuid, Person> =
                conn.load_people(&candidates).await?.into_iter().map(|p| (p.id, p)).collect();
            let owners: Vec<Uuid> = by_email.values().copied().collect();
            let mut known_as: HashMap<Uuid, String> = conn
                .refs_of_people(organisation_id, system, &owners)
                .await?
                .into_iter()
                .map(|(external_id, person)| (person, external_id))
                .collect();
            let logins: HashSet<Uuid> = if rights.change_login {
                HashSet::new()
            } else {
                conn.people_with_password(&candidates).await?.into_iter().collect()
            };
            let all_memberships = conn.load_memberships(&candidates).await?;
            let mut orgs_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            let mut here: HashMap<Uuid, Membership> = HashMap::new();
            for m in all_memberships {
                orgs_of.entry(m.person_id).or_default().push(m.organisation_id);
                if m.organisation_id == organisation_id {
                    let newer = here
                        .get(&m.person_id)
                        .is_none_or(|h| (m.terms.starts_on, m.created_at) > (h.terms.starts_on, h.created_at));
                    if newer {
                        here.insert(m.person_id, m);
                    }
                }
            }

            // Decide each item in order.
            let mut results = Vec::with_capacity(items.len());
            let mut new_people: Vec<Person> = Vec::new();
            let mut changed_people: Vec<(Person, i64)> = Vec::new();
            let mut new_memberships: Vec<Membership> = Vec::new();
            let mut changed_memberships: Vec<(Membership, i64)> = Vec::new();
            let mut new_refs: Vec<(ExternalRef, Uuid)> = Vec::new();
            let mut seen_ids: HashSet<&str> = HashSet::new();
            let mut claimed_emails: HashMap<&str, Uuid> = HashMap::new();
            for item in items {
                if !seen_ids.insert(item.external_id.as_str()) {
                    results.push(Err(ItemConflict::conflict("/external_id", "appears more than once in this request")));
                    continue;
                }
                let linked = refs.get(&item.external_id).copied();
                let owner = by_email.get(item.content.email.key()).copied();
                let target = match (linked, owner) {
                    (Some(t), Some(o)) if t != o => {
                        results.push(Err(ItemConflict::conflict("/email", "belongs to another person in the network")));
                        continue;
                    }
                    (Some(t), _) => Some(t),
                    // The person behind the address is already known to this system under
                    // another id: one person has one reference per system.
                    (None, Some(o)) if known_as.contains_key(&o) => {
                        results.push(Err(ItemConflict::conflict(
                            "/external_id",
                            format!(
                                "the person with this e-mail address is already known in `{system}` as `{}`",
                                known_as[&o]
                            ),
                        )));
                        continue;
                    }
                    // An existing person joins this organisation's references only if the
                    // organisation already counts them among its members.
                    (None, Some(o)) if orgs_of.get(&o).is_some_and(|orgs| orgs.contains(&organisation_id)) => Some(o),
                    (None, Some(_)) => {
                        results.push(Err(ItemConflict::conflict(
                            "/email",
                            "belongs to a person who is not a member of this organisation; add their membership first",
                        )));
                        continue;
                    }
                    (None, None) => None,
                };
                let person_id = target.unwrap_or_else(|| crate::db::ids::new_id(crate::db::ids::Kind::Person));
                match claimed_emails.get(item.content.email.key()) {
                    Some(other) if *other != person_id => {
                        results.push(Err(ItemConflict::conflict("/email", "is used by another item of this request")));
                        continue;
                    }
                    _ => {
                        claimed_emails.insert(item.content.email.key(), person_id);
                    }
                }

                let touches_admin = item.membership.role == MembershipRole::OrgAdmin
                    || here
                        .get(&person_id)
                        .is_some_and(|m| m.terms.role == MembershipRole::OrgAdmin && m.terms != item.membership);
                if touches_admin && !rights.grant_admin {
                    results.push(Err(ItemConflict {
                        pointer: "/membership/role",
                        detail: ADMIN_MEMBERSHIP.into(),
                        forbidden: true,
                    }));
                    continue;
                }
                let changes_login = target.is_some_and(|t| {
                    logins.contains(&t)
                        && people.get(&t).is_some_and(|p| p.content.email.key() != item.content.email.key())
                });
                if changes_login {
                    results.push(Err(ItemConflict { pointer: "/email", detail: LOGIN_EMAIL.into(), forbidden: true }));
                    continue;
                }
                let mut result = Upserted::Unchanged;
                // An existing person who gets their first membership here changes too: the
                // organisation's audience must learn about them from the feed.
                let joins = !here.contains_key(&person_id);
                // So does one the organisation's system now knows by a new reference: its
                // views show the organisation's references, so their ETag and feed entry move.
                let newly_known = linked.is_none();
                let person = match target.and_then(|t| people.get(&t)) {
                    None => {
                        result = Upserted::Created;
                        let person = Person {
                            id: person_id,
                            content: item.content.clone(),
                            role: PersonRole::Member,
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        new_people.push(person.clone());
                        person
                    }
                    Some(current) if current.content != item.content || joins || newly_known => {
                        result = Upserted::Updated;
                        let person = Person {
                            content: item.content.clone(),
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        changed_people.push((person.clone(), current.version));
                        person
                    }
                    Some(current) => current.clone(),
                };
                if linked.is_none() {
                    known_as.insert(person_id, item.external_id.clone());
                    new_refs
                        .push((ExternalRef { system: system.to_string(), id: item.external_id.clone() }, person_id));
                    if result == Upserted::Unchanged {
                        result = Upserted::Updated;
                    }
                }
                let membership = match here.get(&person_id) {
                    None => {
                        let m = Membership {
                            id: crate::db::ids::new_id(crate::db::ids::Kind::Membership),
                            person_id,
                            organisation_id,
                            terms: item.membership,
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        new_memberships.push(m.clone());
                        if result == Upserted::Unchanged {
                            result = Upserted::Updated;
                        }
                        m
                    }
                    Some(current) if current.terms != item.membership => {
                        let m = Membership {
                            terms: item.membership,
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        changed_memberships.push((m.clone(), current.version));
                        if result == Upserted::Unchanged {
                            result = Upserted::Updated;
                        }
                        m
                    }
                    Some(current) => current.clone(),
                };
                results.push(Ok(UpsertOutcome { person, membership, result }));
            }

            // Write it all, then the feed.
            let mut changes = Vec::new();
            for person in new_people.iter().chain(changed_people.iter().map(|(p, _)| p)) {
                let mut orgs = orgs_of.get(&person.id).cloned().unwrap_or_default();
                if !orgs.contains(&organisation_id) {
                    orgs.push(organisation_id);
                }
                changes.push(person_change(person, &orgs)?);
            }
            for m in new_memberships.iter().chain(changed_memberships.iter().map(|(m, _)| m)) {
                changes.push(membership_change(m)?);
            }
            for chunk in new_people.chunks(500) {
                conn.insert_people(chunk, None).await.map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::conflict(Rule::ChangedMeanwhile, "concurrent change")
                    } else {
                        e.into()
                    }
                })?;
            }
            for (person, expected) in &changed_people {
                let n = conn.update_person_row(person, *expected).await.map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::conflict(Rule::ChangedMeanwhile, "concurrent change")
                    } else {
                        e.into()
                    }
                })?;
                if n != 1 {
                    return Err(StoreError::VersionMismatch { current: *expected });
                }
            }
            for chunk in new_memberships.chunks(500) {
                conn.insert_memberships(chunk).await?;
            }
            for (m, expected) in &changed_memberships {
                if conn.update_membership_row(m.id, *expected, m.terms, at).await?.is_none() {
                    return Err(StoreError::VersionMismatch { current: *expected });
                }
            }
            let new_refs: Vec<(String, Uuid)> = new_refs.into_iter().map(|(r, p)| (r.id, p)).collect();
            conn.insert_refs(organisation_id, system, ResourceType::Person, &new_refs).await?;
            for chunk in changes.chunks(1000) {
                conn.record(chunk).await?;
            }
            tx.commit().await?;
            Ok(results)
        }
        .await)
    }
}
