//! People's profiles: list, create, read, change, delete, and passwords.

use super::*;

/// A person's profile, as sent to create one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Mira Peeters",
    "email": "mira.peeters@zorgnetkempen.example",
    "stakeholder_group": "employee",
    "birth_year": 1968,
    "languages": ["nl", "fr"]
}))]
pub struct NewPerson {
    /// 1 to 120 characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Unique in the network, compared without regard to case.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    /// Year of birth (1900 to 2100); or give `age_band`, not both.
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::http::json::whole")]
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    /// ISO 639-1 codes, at most 10.
    #[serde(default)]
    #[schema(max_items = 10, example = json!(["nl", "en"]))]
    pub languages: Vec<LanguageCode>,
    /// Network-wide role (default `member`); only facilitators set it.
    pub role: Option<PersonRole>,
}

/// An ISO 639-1 language code.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[a-z]{2}$", example = "nl")]
pub struct LanguageCode(pub String);

impl NewPerson {
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

/// Changes to a person's profile, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"languages": ["nl", "en"], "birth_year": null, "age_band": "55_64"}))]
pub struct PersonPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 120, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, max_length = 254, pattern = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<StakeholderGroup>, nullable = false)]
    pub stakeholder_group: Option<Option<StakeholderGroup>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable_whole")]
    #[schema(value_type = Option<i32>, minimum = 1900, maximum = 2100)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<LanguageCode>>, nullable = false, max_items = 10)]
    pub languages: Option<Option<Vec<LanguageCode>>>,
    /// Network-wide role; only facilitators change it.
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<PersonRole>, nullable = false)]
    pub role: Option<Option<PersonRole>>,
}

impl PersonPatch {
    fn apply(&self, mut input: PersonInput) -> std::result::Result<PersonInput, Invalid> {
        let mut inv = Invalid::default();
        match &self.name {
            Some(Some(v)) => input.name = v.clone(),
            Some(None) => inv.errors.push(FieldError::cannot_remove("/name")),
            None => {}
        }
        match &self.email {
            Some(Some(v)) => input.email = v.clone(),
            Some(None) => inv.errors.push(FieldError::cannot_remove("/email")),
            None => {}
        }
        inv.required("/stakeholder_group", self.stakeholder_group, &mut input.stakeholder_group);
        match &self.languages {
            Some(Some(v)) => input.languages = v.iter().map(|l| l.0.clone()).collect(),
            Some(None) => inv.errors.push(FieldError::cannot_remove("/languages")),
            None => {}
        }
        if matches!(self.role, Some(None)) {
            inv.errors.push(FieldError::cannot_remove("/role"));
        }
        // A birth year replaces an age band and the other way round.
        if let Some(v) = self.birth_year {
            input.birth_year = v;
            if v.is_some() && self.age_band.is_none() {
                input.age_band = None;
            }
        }
        if let Some(v) = self.age_band {
            input.age_band = v;
            if v.is_some() && self.birth_year.is_none() {
                input.birth_year = None;
            }
        }
        inv.finish(|| input)
    }
}

/// Sets a password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "old passphrase here", "new_password": "lerenderwijs-2027!"}))]
pub struct PasswordChange {
    /// Your current password, when you change your own and have one.
    #[schema(format = Password, max_length = 256)]
    pub current_password: Option<String>,
    /// At least 12 characters.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// Filters, sort and page of the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListQuery {
    /// Only current members of this organisation (with `include_former=true`, also those
    /// whose membership ended or has yet to start).
    pub organisation_id: Option<Uuid>,
    /// With `organisation_id`: also people whose membership of it ended (or starts later),
    /// `true`.
    pub include_former: Option<bool>,
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Only these people: up to 100 of our ids, comma-separated, such as
    /// `0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11,0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d14`.
    #[param(
        pattern = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(,[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}){0,99}$"
    )]
    pub ids: Option<String>,
    /// Only the person one of your organisations' systems knows by this id, such as
    /// `E-10442` (see `system`): for its admins and clients, who read their own references.
    #[param(pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$")]
    pub external_id: Option<String>,
    /// Only people one of your organisations' systems has an id for in this system, such as
    /// `sdworx` (with `external_id`: that id in that system).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub system: Option<String>,
    /// Only people changed after this moment (RFC 3339), such as `2026-11-27T09:00:00Z`,
    /// for an incremental sync; sort by `updated_at` to read them in order.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_after: Option<DateTime<Utc>>,
    /// Words of the name; case and accents are ignored. For example `peeters`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Sort field; prefix `-` for descending. Default `name`.
    #[param(schema_with = person_sort_schema)]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

/// The `ids` filter: up to 100 of our ids, comma-separated.
fn parse_ids(ids: Option<&str>) -> Result<Option<Vec<Uuid>>> {
    let Some(ids) = ids else { return Ok(None) };
    let parsed: Vec<Uuid> = ids
        .split(',')
        .map(|id| Uuid::parse_str(id.trim()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| ApiError::BadRequest("`ids` must be our ids (UUIDs), comma-separated.".into()))?;
    if parsed.len() > 100 {
        return Err(ApiError::BadRequest(format!("`ids` takes at most 100 ids (got {}).", parsed.len())));
    }
    Ok(Some(parsed))
}

/// The `external_id` and `system` filters, over the references of the caller's own
/// organisations (facilitators: of every organisation); `None` scopes for a caller without
/// any, who then finds no one.
fn external_ref_filter(access: &Access, id: Option<&str>, system: Option<&str>) -> Result<Option<RefFilter>> {
    if id.is_none() && system.is_none() {
        return Ok(None);
    }
    let system = system.map(|s| ExternalRef::parse(s, "x", "").map(|r| r.system)).transpose();
    let system = system
        .map_err(|_| ApiError::BadRequest("`system` must be 1 to 64 letters, digits, `.`, `_` or `-`.".into()))?;
    if let Some(id) = id {
        ExternalRef::parse("x", id, "").map_err(|_| {
            ApiError::BadRequest("`external_id` must be 1 to 200 characters without `/` or control characters.".into())
        })?;
    }
    Ok(Some(RefFilter { scopes: access.readable_organisations(), system, external_id: id.map(String::from) }))
}

pub(super) fn person_sort_schema() -> utoipa::openapi::Object {
    sort_schema::<PersonSort>()
}

// ---- people ----

/// List people
///
/// The network's directory. Facilitators see everyone in full; signed-in people see
/// everyone's name, group and organisations, and in full themselves and the members of the
/// organisations they administer; an integration client sees its organisation's people.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_people",
    params(PersonListQuery),
    responses(
        (status = 200, description = "A page of people.", body = ListResponse<PersonView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "An integration client without a people scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people")]
pub(super) async fn list_people(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<PersonListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller)?;
    let query = query.into_inner();
    let filter = PersonFilter {
        within: match &access {
            Access::Client { .. } => access.readable_organisations(),
            _ => None,
        },
        organisation_id: query.organisation_id,
        include_former: query.include_former.unwrap_or(false),
        stakeholder_group: query.stakeholder_group,
        q: parse_q(query.q.as_deref(), 200)?,
        ids: parse_ids(query.ids.as_deref())?,
        external_ref: external_ref_filter(&access, query.external_id.as_deref(), query.system.as_deref())?,
        updated_after: query.updated_after,
    };
    let page_req = PageRequest::<PersonSort>::parse(
        &state.cursors,
        format!("people?{filter:?}"),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    let (page, ties) =
        state.store.list_people(&filter, state.today(), page_req.sort, page_req.after.as_ref(), page_req.limit).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    let full: Vec<Uuid> =
        ids.iter().copied().filter(|p| view_of(&access, *p, &ties) == Some(PersonViewKind::Full)).collect();
    // References exist only where the caller's organisations have members: those shown in full.
    let mut refs = own_refs(&state, &access, &full).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |p| {
        let orgs = affiliations(&ties, p.id, state.today());
        let mut view =
            if full.contains(&p.id) { PersonView::full(&p, Some(orgs)) } else { PersonView::network(&p, orgs) };
        view.external_refs = refs.remove(&p.id).unwrap_or_default();
        view
    }))
}

/// Create a person
///
/// Adds a person to the network. Facilitators only; organisation admins add people with
/// `POST /v1/organisations/{id}/people`, integration clients by reference.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_person",
    request_body = NewPerson,
    responses(
        (status = 201, description = "Created.", body = PersonView,
            headers(("Location" = String, description = "The new person's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only facilitators add people here.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A person with this e-mail address exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/people")]
pub(super) async fn create_person(
    caller: Caller,
    body: Json<NewPerson>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let body = body.0;
    let content = validated_person(body.input(), "")?;
    let role = body.role.unwrap_or(PersonRole::Member);
    let (person, _) = state.store.create_person(&content, role, None, None).await?;
    Ok(created(format!("/v1/people/{}", person.id), person.version, &PersonView::full(&person, Some(vec![]))))
}

/// Get a person
///
/// One person, in the view the caller may see (`view` says which). `404` for a person an
/// integration client's organisation does not know.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "get_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The person.", body = PersonView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "An integration client without a people scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people/{id}")]
pub(super) async fn get_person(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    let (person, ties) = state.store.get_person_tied(id).await.or_not_found(|| no_person(id))?;
    let view = render_tied(&state, &access, &person, &ties).await?.ok_or_else(|| no_person(id))?;
    Ok(respond_tagged(&req, person.version, &view))
}

/// Update a person
///
/// Changes a profile with a JSON Merge Patch (RFC 7396): the person themselves,
/// facilitators, admins of an organisation the person belongs to, and integration clients
/// with `people:write` for their organisation's people. Only facilitators change `role`,
/// and never their own (`403`); the new role holds from the person's next request.
/// The e-mail address of someone who signs in with a password is theirs: only they and
/// facilitators change it. A birth year replaces an age band and the other way round.
/// Send `If-Match` with the ETag you read.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "update_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfMatch),
    request_body(content = PersonPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = PersonView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Not yours to change, or the sign-in e-mail address of someone else.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another person has this e-mail address.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/people/{id}")]
pub(super) async fn update_person(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<PersonPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    let (current, ties) = state.store.get_person_tied(id).await.or_not_found(|| no_person(id))?;
    if view_of(&access, id, &ties).is_none() {
        return Err(no_person(id));
    }
    if !may_edit(&access, id, &ties) {
        return Err(ApiError::Forbidden("You may change only your own profile and your members'.".into()));
    }
    let patch = body.0;
    let content = validated_person(patch.apply(current.content.to_input())?, "")?;
    let new_role = patch.role.flatten();
    if new_role.is_some_and(|r| r != current.role) && !access.is_facilitator() {
        return Err(Invalid::one("/role", "only facilitators change roles").into());
    }
    if new_role.is_some_and(|r| r != current.role) && access.person_id() == Some(id) {
        return Err(ApiError::Forbidden("Nobody changes their own role: ask another facilitator.".into()));
    }
    // The e-mail address someone signs in with is theirs to change (or a facilitator's):
    // an organisation changes it only for people without a password.
    let own_or_facilitator = access.is_facilitator() || access.person_id() == Some(id);
    if content.email.key() != current.content.email.key()
        && !own_or_facilitator
        && state.store.get_person_account(id).await?.password_hash.is_some()
    {
        return Err(ApiError::Forbidden(
            "This e-mail address is the one the person signs in with: only they and facilitators change it.".into(),
        ));
    }
    if_match.check(current.version)?;
    let mut person = current.clone();
    let role = new_role.unwrap_or(current.role);
    if content != current.content || role != current.role {
        // Profile and role in one transaction: a failure never leaves half the change.
        person = state.store.update_person(id, person.version, &content, role).await.map_err(|e| match e {
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed { current_version: Some(current) },
            other => other.into(),
        })?;
    }
    // A profile change leaves the memberships as read above.
    let view = render_tied(&state, &access, &person, &ties).await?.ok_or_else(|| no_person(id))?;
    Ok(tagged(person.version, &view))
}

/// Delete a person
///
/// Removes a person and their memberships; the change feed reports tombstones. Facilitators only.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "delete_person",
    params(("id" = Uuid, Path, description = "The person's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only facilitators delete people.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The person changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/people/{id}")]
pub(super) async fn delete_person(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let id = id.into_inner();
    let expected = if if_match.is_absent() {
        None
    } else {
        let current = state.store.get_person(id).await.or_not_found(|| no_person(id))?;
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_person(id, expected).await.map_err(|e| match e {
        StoreError::NotFound => no_person(id),
        other => other.into(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set a password
///
/// Sets the password a person signs in with: your own (with `current_password` when you
/// have one), or anyone's as a facilitator. Every existing sign-in of the person ends.
/// Passwords are never returned by any endpoint.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "set_password",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "The password is set; sign in again."),
        (status = 403, description = "Not your password to set, or the current password is wrong.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many password attempts for this account (they count with sign-in attempts); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "Seconds until the next attempt is allowed"),
                    ("RateLimit-Policy" = String, description = "The limit (draft-ietf-httpapi-ratelimit-headers)"),
                    ("RateLimit" = String, description = "What is left of it"))),
    )
)]
#[put("/v1/people/{id}/password")]
pub(super) async fn set_password(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<PasswordChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let body = body.0;
    check_password(&body.new_password).map_err(|e| Invalid::one("/new_password", e))?;
    if body.current_password.as_ref().is_some_and(|p| p.chars().count() > crate::domain::account::PASSWORD_MAX) {
        return Err(Invalid::one("/current_password", "must be at most 256 characters").into());
    }
    let facilitator = caller.has_role(Role::Facilitator);
    if caller.person_id() != Some(id) && !facilitator {
        return match caller.person_id() {
            Some(_) => Err(ApiError::Forbidden("You may set only your own password.".into())),
            None => Err(no_person(id)),
        };
    }
    let account = state.store.get_person_account(id).await.or_not_found(|| no_person(id))?;
    if caller.person_id() == Some(id) && account.password_hash.is_some() {
        // A stolen access token must not become a way to guess the password: these checks
        // count toward the same per-account limit as signing in.
        // Keyed by the address (shared with the password grant) and by the person: changing
        // one's address does not open a fresh budget.
        let limiter = &state.sign_in_by_account;
        let by_address = limiter.check(&crate::api::auth::account_limit_key(&account.email));
        let by_person = limiter.check(&format!("person-id:{id}"));
        if let Some(Decision::Limited { retry_after }) =
            [by_address, by_person].into_iter().find(|d| matches!(d, Decision::Limited { .. }))
        {
            return Err(ApiError::TooManyRequests {
                detail: format!("Too many password attempts for this account; retry in {retry_after} seconds."),
                retry_after,
                policy: limiter.policy(),
                state: limiter.state(Decision::Limited { retry_after }),
            });
        }
        let current = body.current_password.clone().unwrap_or_default();
        let ok = password::verify(current, account.password_hash.clone())
            .await
            .map_err(|_| ApiError::ServiceUnavailable("Too many password checks right now; retry.".into()))?;
        if !ok {
            return Err(ApiError::Forbidden("`current_password` is not your current password.".into()));
        }
    }
    let hash = password::hash(body.new_password).await?;
    state.store.set_password_hash(id, &hash).await?;
    state.store.revoke_sessions_of(id).await?;
    Ok(HttpResponse::NoContent().finish())
}
