//! HR sync of people: by external reference, one at a time or in batches, and people created for an organisation.

use super::memberships::check_linkable;
use super::*;
use crate::db::feed::ResourceType;

/// A new person who joins an organisation at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jonas Claes",
    "email": "jonas.claes@zorgnetkempen.example",
    "stakeholder_group": "hr_professional",
    "age_band": "35_44",
    "languages": ["nl"],
    "membership": {"role": "hr", "starts_on": "2024-09-01"}
}))]
pub struct NewOrganisationPerson {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

/// A person's profile and membership as an organisation's system knows them (the body of
/// an upsert by reference, and one item of a batch without its `external_id`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Mira Peeters",
    "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee",
    "birth_year": 1968,
    "languages": ["nl"],
    "membership": {"role": "employee", "starts_on": "2019-03-01", "ends_on": null}
}))]
pub struct PersonRecord {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

impl PersonRecord {
    fn input(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            email: self.email.clone(),
            stakeholder_group: self.stakeholder_group,
            birth_year: self.birth_year,
            age_band: self.age_band,
            languages: self.languages.iter().map(|l| l.0.clone()).collect(),
        }
    }
}

/// One item of a batch: a person record and its id in your system.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_id": "E-10442", "name": "Mira Peeters", "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee", "birth_year": 1968, "languages": ["nl"],
    "membership": {"role": "employee", "starts_on": "2019-03-01"}
}))]
pub struct BatchItem {
    /// The person's id in your system (the batch's `system`).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "E-10442")]
    pub external_id: String,
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub languages: Vec<LanguageCode>,
    pub membership: MembershipTermsBody,
}

/// Up to 1,000 people to create or update by your system's ids.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "system": "sdworx",
    "items": [{
        "external_id": "E-10442",
        "name": "Mira Peeters",
        "email": "mira.peeters@zorgnetkempen.example",
        "stakeholder_group": "employee",
        "birth_year": 1968,
        "languages": ["nl"],
        "membership": {"role": "employee", "starts_on": "2019-03-01"}
    }]
}))]
pub struct PeopleBatch {
    /// Your system's name, such as `sdworx` or `personio`.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "sdworx")]
    pub system: String,
    /// Up to 1,000 items. Each is checked on its own: an invalid item gets an `error` result,
    /// the others are processed.
    #[schema(value_type = Vec<BatchItem>, max_items = 1000)]
    pub items: Vec<serde_json::Value>,
}

/// What happened to one batch item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Created,
    Updated,
    Unchanged,
    /// The item was refused; `problem` says why. The other items were processed.
    Error,
}

/// The result of one batch item, in request order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "index": 0, "external_id": "E-10442", "result": "created",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "membership_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 1
}))]
pub struct BatchItemResult {
    pub index: usize,
    /// The item's `external_id`, when it had one.
    pub external_id: Option<String>,
    pub result: ItemResult,
    pub person_id: Option<Uuid>,
    pub membership_id: Option<Uuid>,
    /// The person's version after this batch.
    pub version: Option<i64>,
    /// Why the item was refused (`result: error`); pointers lead into the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<Problem>,
}

/// The answer to a batch: one result per item.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"results": [
    {"index": 0, "external_id": "E-10442", "result": "created", "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
     "membership_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "version": 1},
    {"index": 1, "external_id": "E-10443", "result": "error", "person_id": null, "membership_id": null, "version": null,
     "problem": {"type": "https://vov.be/problems/validation", "title": "Your request is not valid", "status": 422,
                 "detail": "Item 1 is not valid; see `errors`.",
                 "errors": [{"pointer": "/items/1/email", "detail": "`not-an-address` is not an e-mail address"}]}}
]}))]
pub struct BatchResponse {
    pub results: Vec<BatchItemResult>,
}

/// The answer to an upsert by reference: the person and their membership of the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "result": "created",
    "person": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "view": "full", "name": "Mira Peeters",
               "stakeholder_group": "employee", "organisations": [{"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen"}],
               "email": "mira.peeters@zorgnetkempen.example", "role": "member", "birth_year": 1968, "age_band": null,
               "languages": ["nl"], "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z", "version": 1},
    "membership": {"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d13", "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
                   "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "role": "employee", "starts_on": "2019-03-01",
                   "ends_on": null, "created_at": "2026-11-27T09:00:00Z", "updated_at": "2026-11-27T09:00:00Z", "version": 1}
}))]
pub struct UpsertedPerson {
    pub result: Upserted,
    pub person: PersonView,
    pub membership: MembershipView,
}

/// A membership as an organisation's system knows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "role": "employee", "starts_on": "2019-03-01", "ends_on": null}))]
pub struct MembershipRecord {
    /// A member of the organisation (their id from the people endpoints or an upsert).
    pub person_id: Uuid,
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Create or update a membership by your system's id
///
/// Creates or updates the membership your system `{system}` knows as `{external_id}` (an
/// employment contract, say). Answers `201` when it was created and `200` otherwise; the
/// `Upsert-Result` header says `created`, `updated` or `unchanged`. The person must already
/// belong to the organisation (facilitators may link anyone). The organisation's clients
/// with `people:write`, its admins, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_membership_by_ref",
    params(OrgRefPath),
    request_body = MembershipRecord,
    responses(
        (status = 200, description = "Updated or unchanged.", body = MembershipView,
            headers(("Upsert-Result" = String, description = "`updated` or `unchanged`"))),
        (status = 201, description = "Created.", body = MembershipView,
            headers(("Upsert-Result" = String, description = "`created`"), ("Location" = String, description = "The membership's URL"))),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators; an outsider only by facilitators; an `org_admin` membership only by admins and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The reference names a membership of another person.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/{id}/memberships/by-ref/{system}/{external_id}")]
pub(super) async fn upsert_membership_by_ref(
    caller: Caller,
    path: web::Path<OrgRefPath>,
    body: Json<MembershipRecord>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, reference) = path.parse()?;
    let access = access_of(&caller)?;
    managed_organisation(&state, &access, id, "This needs `people:write` for this organisation, or being its admin.")
        .await?;
    let body = body.0;
    let terms = MembershipTerms::parse(body.role, body.starts_on, body.ends_on, "")?;
    check_linkable(&state, &access, body.person_id, id).await?;
    check_admin_rights(&access, id, &[terms.role])?;
    let (m, result) = state
        .store
        .upsert_membership_by_ref(id, &reference, body.person_id, terms, upsert_rights(&access, id))
        .await
        .map_err(|e| match e {
            StoreError::Forbidden(_) => ApiError::Forbidden(ADMIN_RIGHTS.into()),
            other => other.into(),
        })?;
    let mut view = MembershipView::from(&m);
    add_own_refs(&state, &access, std::slice::from_mut(&mut view)).await?;
    Ok(upserted(result)
        .insert_header((header::LOCATION, format!("/v1/memberships/{}", m.id)))
        .insert_header((header::ETAG, etag(m.version)))
        .json(view))
}

// ---- an organisation's people ----

/// Add a person to an organisation
///
/// Creates a person who joins the organisation at once. Its admins, its integration
/// clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_organisation_person",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewOrganisationPerson,
    responses(
        (status = 201, description = "Created, with the membership.", body = UpsertedPerson,
            headers(("Location" = String, description = "The new person's URL"))),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A person with this e-mail address exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/people")]
pub(super) async fn create_organisation_person(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewOrganisationPerson>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    managed_organisation(&state, &access, id, "Only the organisation's admins and facilitators add people.").await?;
    let b = body.0;
    let input = PersonInput {
        name: b.name,
        email: b.email,
        stakeholder_group: b.stakeholder_group,
        birth_year: b.birth_year,
        age_band: b.age_band,
        languages: b.languages.into_iter().map(|l| l.0).collect(),
    };
    let mut inv = Invalid::default();
    let content = validated_person(input, "").map_err(|e| inv.errors.extend(e.errors)).ok();
    let terms = b.membership.parse("/membership").map_err(|e| inv.errors.extend(e.errors)).ok();
    inv.finish(|| ())?;
    let (content, terms) = (content.expect("checked"), terms.expect("checked"));
    check_admin_rights(&access, id, &[terms.role])?;
    let (person, membership) = state.store.create_person(&content, PersonRole::Member, None, Some((id, terms))).await?;
    let membership = membership.expect("created with the person");
    let affiliations = affiliations_of(&state, person.id).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/v1/people/{}", person.id))).json(
        UpsertedPerson {
            result: Upserted::Created,
            person: PersonView::full(&person, Some(affiliations)),
            membership: MembershipView::from(&membership),
        },
    ))
}

pub(super) fn item_problem(detail: String, errors: Vec<FieldError>) -> Problem {
    let mut problem = ApiError::Invalid(Invalid { errors }).problem();
    problem.detail = detail;
    problem
}

/// Create or update a person by your system's id
///
/// Creates or updates the person your system `{system}` knows as `{external_id}`, with
/// their membership of this organisation (the latest membership is updated, or one is
/// created). An e-mail address that belongs to an existing member of the organisation
/// links that person to the reference; one that belongs to someone outside it is refused.
/// Answers `201` when the person was created, `200` otherwise; `result` and the
/// `Upsert-Result` header say `created`, `updated` or `unchanged`. Safe to repeat. The
/// organisation's integration clients with `people:write`, its admins, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_person_by_ref",
    params(OrgRefPath),
    request_body = PersonRecord,
    responses(
        (status = 200, description = "Updated or unchanged.", body = UpsertedPerson,
            headers(("Upsert-Result" = String, description = "`updated` or `unchanged`"))),
        (status = 201, description = "Created.", body = UpsertedPerson,
            headers(("Upsert-Result" = String, description = "`created`"), ("Location" = String, description = "The person's URL"))),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators. Also when the record would grant, change or end an `org_admin` membership (admins and facilitators only), or change the sign-in e-mail address of someone with a password (facilitators only).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address belongs to someone else, or the system is `scim`: an identity provider's `externalId`s are written over SCIM only (and read here).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/{id}/people/by-ref/{system}/{external_id}")]
pub(super) async fn upsert_person_by_ref(
    caller: Caller,
    path: web::Path<OrgRefPath>,
    body: Json<PersonRecord>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, reference) = path.parse()?;
    let access = access_of(&caller)?;
    managed_organisation(&state, &access, id, "This needs `people:write` for this organisation, or being its admin.")
        .await?;
    let body = body.0;
    let mut inv = Invalid::default();
    let content = validated_person(body.input(), "").map_err(|e| inv.errors.extend(e.errors)).ok();
    let terms = body.membership.parse("/membership").map_err(|e| inv.errors.extend(e.errors)).ok();
    inv.finish(|| ())?;
    let item = PersonUpsert {
        external_id: reference.id.clone(),
        content: content.expect("checked"),
        membership: terms.expect("checked"),
    };
    let mut results = state
        .store
        .upsert_people(id, &reference.system, std::slice::from_ref(&item), upsert_rights(&access, id))
        .await?;
    match results.pop().expect("one result per item") {
        Ok(outcome) => {
            let affiliations = affiliations_of(&state, outcome.person.id).await?;
            let mut person = PersonView::full(&outcome.person, Some(affiliations));
            add_own_refs(&state, &access, std::slice::from_mut(&mut person)).await?;
            let mut membership = MembershipView::from(&outcome.membership);
            add_own_refs(&state, &access, std::slice::from_mut(&mut membership)).await?;
            Ok(upserted(outcome.result)
                .insert_header((header::LOCATION, format!("/v1/people/{}", outcome.person.id)))
                .json(UpsertedPerson { result: outcome.result, person, membership }))
        }
        Err(refused) if refused.forbidden => {
            Err(ApiError::Forbidden(format!("`{}` {}.", refused.pointer, refused.detail)))
        }
        Err(conflict) => Err(ApiError::conflict(conflict.detail, Some(conflict.pointer).filter(|p| !p.is_empty()))),
    }
}

/// Create or update up to 1,000 people by your system's ids
///
/// The batch form of `PUT .../people/by-ref/{system}/{external_id}`: one result per item,
/// in request order (`created`, `updated`, `unchanged`, or `error` with a problem whose
/// pointers lead into the request body: status 422 for an invalid item, 409 for a clash
/// with other data, 403 for an item the caller has no right to apply, such as an
/// `org_admin` membership). A refused item never stops the others. Send an
/// `Idempotency-Key` so that a retried batch is not applied twice. A 10,000-person sync is
/// ten requests.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_people_batch",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = PeopleBatch,
    responses(
        (status = 200, description = "One result per item.", body = BatchResponse),
        (status = 403, description = "Only the organisation's clients with `people:write`, its admins and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The system is `scim`: an identity provider's `externalId`s are written over SCIM only.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/people/batch")]
pub(super) async fn upsert_people_batch(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PeopleBatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    managed_organisation(&state, &access, id, "This needs `people:write` for this organisation, or being its admin.")
        .await?;
    let body = body.0;
    if body.items.len() > BATCH_MAX {
        return Err(Invalid::one("/items", format!("at most {BATCH_MAX} items per request")).into());
    }
    let system = ExternalRef::parse(&body.system, "x", "")
        .map_err(|_| Invalid::one("/system", "must be 1 to 64 letters, digits, `.`, `_` or `-`"))?
        .system;
    // Parse and validate each item on its own, so one bad item refuses only itself.
    let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(body.items.len());
    let mut valid: Vec<(usize, PersonUpsert)> = Vec::new();
    for (index, raw) in body.items.into_iter().enumerate() {
        let prefix = format!("/items/{index}");
        let external_id = raw.get("external_id").and_then(|v| v.as_str()).map(String::from);
        let refused = |errors: Vec<FieldError>| BatchItemResult {
            index,
            external_id: external_id.clone(),
            result: ItemResult::Error,
            person_id: None,
            membership_id: None,
            version: None,
            problem: Some(item_problem(format!("Item {index} is not valid; see `errors`."), errors)),
        };
        let item: BatchItem = match serde_json::from_value(raw) {
            Ok(item) => item,
            Err(e) => {
                let message = e.to_string();
                results.push(Some(refused(vec![FieldError::new(prefix.clone(), message)])));
                continue;
            }
        };
        let mut inv = Invalid::default();
        if let Err(e) = ExternalRef::parse(&system, &item.external_id, "") {
            inv.errors.extend(e.errors.into_iter().map(|f| FieldError::new(format!("{prefix}/external_id"), f.detail)));
        }
        let input = PersonInput {
            name: item.name,
            email: item.email,
            stakeholder_group: item.stakeholder_group,
            birth_year: item.birth_year,
            age_band: item.age_band,
            languages: item.languages.into_iter().map(|l| l.0).collect(),
        };
        let content = validated_person(input, &prefix).map_err(|e| inv.errors.extend(e.errors)).ok();
        let terms =
            item.membership.parse(&format!("{prefix}/membership")).map_err(|e| inv.errors.extend(e.errors)).ok();
        if inv.errors.is_empty() {
            valid.push((
                index,
                PersonUpsert {
                    external_id: item.external_id,
                    content: content.expect("checked"),
                    membership: terms.expect("checked"),
                },
            ));
            results.push(None);
        } else {
            results.push(Some(refused(inv.errors)));
        }
    }
    let items: Vec<PersonUpsert> = valid.iter().map(|(_, i)| i.clone()).collect();
    let outcomes = state.store.upsert_people(id, &system, &items, upsert_rights(&access, id)).await?;
    for ((index, item), outcome) in valid.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(o) => BatchItemResult {
                index,
                external_id: Some(item.external_id),
                result: match o.result {
                    Upserted::Created => ItemResult::Created,
                    Upserted::Updated => ItemResult::Updated,
                    Upserted::Unchanged => ItemResult::Unchanged,
                },
                person_id: Some(o.person.id),
                membership_id: Some(o.membership.id),
                version: Some(o.person.version),
                problem: None,
            },
            Err(conflict) => {
                let mut problem = if conflict.forbidden {
                    ApiError::Forbidden(format!("Item {index} was refused; see `errors`.")).problem()
                } else {
                    ApiError::conflict(conflict.detail.clone(), None).problem()
                };
                problem.errors = vec![FieldError::new(format!("/items/{index}{}", conflict.pointer), conflict.detail)];
                BatchItemResult {
                    index,
                    external_id: Some(item.external_id),
                    result: ItemResult::Error,
                    person_id: None,
                    membership_id: None,
                    version: None,
                    problem: Some(problem),
                }
            }
        });
    }
    Ok(HttpResponse::Ok()
        .json(BatchResponse { results: results.into_iter().map(|r| r.expect("every item has a result")).collect() }))
}

/// What an organisation's system may read back by its own ids: its admins, its clients with
/// `people:read` or `people:write`, and facilitators.
async fn ref_reader(state: &AppState, access: &Access, organisation: Uuid) -> Result<()> {
    organisation_for(state, organisation).await?;
    if !access.reads(organisation) {
        return Err(ApiError::Forbidden("This needs `people:read` for this organisation, or being its admin.".into()));
    }
    Ok(())
}

/// What `reference` names in the organisation, of `resource_type`.
async fn resolve(
    state: &AppState,
    organisation: Uuid,
    reference: &ExternalRef,
    resource_type: ResourceType,
) -> Result<Option<Uuid>> {
    Ok(state.store.find_ref(organisation, &reference.system, resource_type, &reference.id).await?)
}

/// Read a person by your reference
///
/// The person your system knows as `{external_id}` in `{system}` (the reference an upsert
/// by reference or a batch made), as `GET /v1/people/{id}` shows them to you, so that a sync
/// job reads back by its own ids. `Content-Location` gives the person's own URL. The
/// organisation's admins, its clients with `people:read` or `people:write`, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "get_person_by_ref",
    params(OrgRefPath, IfNoneMatch),
    responses(
        (status = 200, description = "The person.", body = PersonView,
            headers(("ETag" = String, description = "The version, quoted"), ("Content-Location" = String, description = "The person's URL"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "Only the organisation's admins, its clients with `people:read` or `people:write`, and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no person with this reference in it.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/people/by-ref/{system}/{external_id}")]
pub(super) async fn get_person_by_ref(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<OrgRefPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    let access = access_of(&caller)?;
    ref_reader(&state, &access, organisation).await?;
    let missing = || no_ref("person", &reference);
    let id = resolve(&state, organisation, &reference, ResourceType::Person).await?.ok_or_else(missing)?;
    let person = state.store.get_person(id).await.or_not_found(missing)?;
    let view = render(&state, &access, &person).await?.ok_or_else(missing)?;
    Ok(read_back(&req, format!("/v1/people/{id}"), person.version, &view))
}

/// Read a membership by your reference
///
/// The membership your system knows as `{external_id}` in `{system}`, as
/// `GET /v1/memberships/{id}` shows it; `Content-Location` gives its own URL. The
/// organisation's admins, its clients with `people:read` or `people:write`, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "get_membership_by_ref",
    params(OrgRefPath, IfNoneMatch),
    responses(
        (status = 200, description = "The membership.", body = MembershipView,
            headers(("ETag" = String, description = "The version, quoted"), ("Content-Location" = String, description = "The membership's URL"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "Only the organisation's admins, its clients with `people:read` or `people:write`, and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no membership with this reference in it.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/memberships/by-ref/{system}/{external_id}")]
pub(super) async fn get_membership_by_ref(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<OrgRefPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    let access = access_of(&caller)?;
    ref_reader(&state, &access, organisation).await?;
    let missing = || no_ref("membership", &reference);
    let id = resolve(&state, organisation, &reference, ResourceType::Membership).await?.ok_or_else(missing)?;
    let m = super::memberships::membership_for(&state, &access, id).await.map_err(|e| match e {
        ApiError::NotFound(_) => missing(),
        e => e,
    })?;
    let mut view = MembershipView::from(&m);
    add_own_refs(&state, &access, std::slice::from_mut(&mut view)).await?;
    Ok(read_back(&req, format!("/v1/memberships/{id}"), m.version, &view))
}

/// Remove a person from the organisation by your reference
///
/// The person your system knows as `{external_id}` in `{system}` leaves the organisation:
/// every membership of theirs in it is removed, in one step, and with the last one the
/// organisation's references to them, what they shared with it, and its sight of them
/// (the change feed gives your system a tombstone for the person). The person stays: their
/// profile, sign-in, records and other memberships are theirs, not the organisation's. The
/// organisation's admins, its clients with `people:write`, and facilitators; an admin's
/// membership only by its admins and facilitators, never by a client (`403`).
#[utoipa::path(
    tag = "Sync",
    operation_id = "remove_person_by_ref",
    params(OrgRefPath),
    responses(
        (status = 204, description = "Removed from the organisation."),
        (status = 403, description = "Only the organisation's admins, its clients with `people:write`, and facilitators; an admin's membership never by a client.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no person with this reference in it.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person's memberships changed meanwhile; try again.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/people/by-ref/{system}/{external_id}")]
pub(super) async fn remove_person_by_ref(
    caller: Caller,
    path: web::Path<OrgRefPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    let access = access_of(&caller)?;
    ref_reader(&state, &access, organisation).await?;
    if !access.manages(organisation) {
        return Err(ApiError::Forbidden("This needs `people:write` for this organisation, or being its admin.".into()));
    }
    let missing = || no_ref("person", &reference);
    let person = resolve(&state, organisation, &reference, ResourceType::Person).await?.ok_or_else(missing)?;
    let memberships = state.store.list_memberships(Some(person), Some(&[organisation]), None, MAX_MEMBERSHIPS).await?;
    if memberships.items.is_empty() {
        return Err(missing());
    }
    let roles: Vec<MembershipRole> = memberships.items.iter().map(|m| m.terms.role).collect();
    check_admin_rights(&access, organisation, &roles)?;
    let current: Vec<(Uuid, i64)> = memberships.items.iter().map(|m| (m.id, m.version)).collect();
    state.store.delete_memberships_of(person, organisation, &current).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// More memberships than one person ever holds in one organisation (were there more, the
/// removal would see that some are missing and refuse).
const MAX_MEMBERSHIPS: usize = 1_000;

/// Remove a membership by your reference
///
/// The membership your system knows as `{external_id}` in `{system}`, removed as
/// `DELETE /v1/memberships/{id}` removes it (to keep its history, end it with `ends_on`
/// instead); with the person's last membership of the organisation they leave it. Send
/// `If-Match` with the ETag you read to be sure it did not change since (`412` otherwise).
/// The organisation's admins, its clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "remove_membership_by_ref",
    params(OrgRefPath, IfMatch),
    responses(
        (status = 204, description = "Removed."),
        (status = 403, description = "Only the organisation's admins, its clients with `people:write`, and facilitators; an admin's membership never by a client.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no membership with this reference in it.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The membership changed since the ETag in `If-Match`, or while it was being removed.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/memberships/by-ref/{system}/{external_id}")]
pub(super) async fn remove_membership_by_ref(
    caller: Caller,
    path: web::Path<OrgRefPath>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    let access = access_of(&caller)?;
    ref_reader(&state, &access, organisation).await?;
    let missing = || no_ref("membership", &reference);
    let id = resolve(&state, organisation, &reference, ResourceType::Membership).await?.ok_or_else(missing)?;
    super::memberships::remove_membership(&state, &access, id, &if_match).await.map_err(|e| match e {
        ApiError::NotFound(_) => missing(),
        e => e,
    })?;
    Ok(HttpResponse::NoContent().finish())
}
