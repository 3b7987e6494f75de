//! Memberships: who belongs to which organisation, in which role.

use super::*;

/// A membership's role and period.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "employee", "starts_on": "2019-03-01", "ends_on": null}))]
pub struct MembershipTermsBody {
    pub role: MembershipRole,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day; `null` or absent while it lasts.
    pub ends_on: Option<NaiveDate>,
}

impl MembershipTermsBody {
    pub(super) fn parse(&self, pointer: &str) -> std::result::Result<MembershipTerms, Invalid> {
        MembershipTerms::parse(self.role, self.starts_on, self.ends_on, pointer)
    }
}

/// A new membership of an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "role": "hr", "starts_on": "2024-09-01"}))]
pub struct NewMembership {
    pub person_id: Uuid,
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Changes to a membership, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ends_on": "2026-12-31"}))]
pub struct MembershipPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<MembershipRole>, nullable = false)]
    pub role: Option<Option<MembershipRole>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable = false)]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
}

// ---- memberships ----

/// A person's memberships
///
/// The person's memberships that the caller may see: all of them for the person and
/// facilitators; those of their organisations for admins and integration clients.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_person_memberships",
    params(("id" = Uuid, Path, description = "The person's id"), PageQuery),
    responses(
        (status = 200, description = "A page of memberships.", body = ListResponse<MembershipView>),
        (status = 403, description = "Only the person, their organisations' admins and facilitators see memberships.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people/{id}/memberships")]
pub(super) async fn list_person_memberships(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    let (_, ties) = state.store.get_person_tied(id).await.or_not_found(|| no_person(id))?;
    let view = view_of(&access, id, &ties).ok_or_else(|| no_person(id))?;
    let readable = if access.is_facilitator() || access.person_id() == Some(id) {
        None
    } else if view == PersonViewKind::Full {
        access.readable_organisations()
    } else {
        return Err(ApiError::Forbidden(
            "Only the person, their organisations' admins and facilitators see memberships.".into(),
        ));
    };
    let page_req = PageRequest::<crate::db::people::MembershipSort>::parse(
        &state.cursors,
        format!("people/{id}/memberships?{readable:?}"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page =
        state.store.list_memberships(Some(id), readable.as_deref(), page_req.after.as_ref(), page_req.limit).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut refs = own_refs(&state, &access, &ids).await?;
    let mut views: Vec<MembershipView> = page.items.iter().map(MembershipView::from).collect();
    add_groups(&state, &mut views).await?;
    let mut groups: std::collections::HashMap<Uuid, Vec<MembershipGroup>> =
        views.into_iter().map(|v| (v.id, v.groups)).collect();
    Ok(respond_page(&req, &state.cursors, &page_req, page, |m| MembershipView {
        external_refs: refs.remove(&m.id).unwrap_or_default(),
        groups: groups.remove(&m.id).unwrap_or_default(),
        ..MembershipView::from(&m)
    }))
}

/// An organisation's memberships
///
/// Who belongs to the organisation, with roles and periods. Its admins, its integration
/// clients with a people scope, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_organisation_memberships",
    params(("id" = Uuid, Path, description = "The organisation's id"), PageQuery),
    responses(
        (status = 200, description = "A page of memberships.", body = ListResponse<MembershipView>),
        (status = 403, description = "Only the organisation's admins and clients, and facilitators.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/memberships")]
pub(super) async fn list_organisation_memberships(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    organisation_for(&state, id).await?;
    if !access.reads(id) {
        return Err(ApiError::Forbidden("Only the organisation's admins and clients, and facilitators.".into()));
    }
    let page_req = PageRequest::<crate::db::people::MembershipSort>::parse(
        &state.cursors,
        format!("organisations/{id}/memberships"),
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let page = state.store.list_memberships(None, Some(&[id]), page_req.after.as_ref(), page_req.limit).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut refs = own_refs(&state, &access, &ids).await?;
    let mut views: Vec<MembershipView> = page.items.iter().map(MembershipView::from).collect();
    add_groups(&state, &mut views).await?;
    let mut groups: std::collections::HashMap<Uuid, Vec<MembershipGroup>> =
        views.into_iter().map(|v| (v.id, v.groups)).collect();
    Ok(respond_page(&req, &state.cursors, &page_req, page, |m| MembershipView {
        external_refs: refs.remove(&m.id).unwrap_or_default(),
        groups: groups.remove(&m.id).unwrap_or_default(),
        ..MembershipView::from(&m)
    }))
}

/// Add a membership
///
/// Adds a membership of the organisation (a new role or period) for one of its members:
/// its admins and its integration clients with `people:write`. Linking a person who is not
/// yet a member is for facilitators, so that no organisation can read an outsider's
/// profile by adding them.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_membership",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = NewMembership,
    responses(
        (status = 201, description = "Created.", body = MembershipView,
            headers(("Location" = String, description = "The membership's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only the organisation's admins and facilitators; an outsider only by facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no such person (`errors` points at `/person_id`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/memberships")]
pub(super) async fn create_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewMembership>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    managed_organisation(&state, &access, id, "Only the organisation's admins and facilitators add members.").await?;
    let body = body.0;
    let terms = MembershipTerms::parse(body.role, body.starts_on, body.ends_on, "")?;
    check_admin_rights(&access, id, &[terms.role])?;
    check_linkable(&state, &access, body.person_id, id).await?;
    let m = state.store.create_membership(body.person_id, id, terms).await?;
    Ok(created(format!("/v1/memberships/{}", m.id), m.version, &MembershipView::from(&m)))
}

/// Whether the caller may make `person_id` a member of `organisation_id`: the person must be
/// one the caller can see (else `422` on `/person_id`), and someone from outside the
/// organisation is linked by facilitators only, since a membership shows their e-mail
/// address to the organisation's admins and clients.
pub(super) async fn check_linkable(
    state: &AppState,
    access: &Access,
    person_id: Uuid,
    organisation_id: Uuid,
) -> Result<()> {
    let visible = match state.store.get_person_tied(person_id).await.found()? {
        Some((_, ties)) => view_of(access, person_id, &ties).is_some(),
        None => false,
    };
    if !visible {
        return Err(ApiError::MissingReference {
            detail: format!("No person with id {person_id}."),
            pointer: "/person_id".into(),
        });
    }
    if access.is_facilitator() {
        return Ok(());
    }
    let memberships = state.store.memberships_of_people(&[person_id]).await?;
    if memberships.iter().any(|(_, org)| *org == organisation_id) {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "This person is not a member of the organisation yet; a facilitator links an existing person to a new \
         organisation."
            .into(),
    ))
}

/// The membership, if the caller may see it.
pub(super) async fn membership_for(state: &AppState, access: &Access, id: Uuid) -> Result<Membership> {
    let m = state.store.get_membership(id).await.or_not_found(|| no_membership(id))?;
    let sees = access.is_facilitator() || access.person_id() == Some(m.person_id) || access.reads(m.organisation_id);
    if sees { Ok(m) } else { Err(no_membership(id)) }
}

/// The membership, if the caller may see it (else `404`) and manages its organisation (else
/// `403`, saying `why`).
async fn managed_membership(state: &AppState, access: &Access, id: Uuid, why: &str) -> Result<Membership> {
    let m = membership_for(state, access, id).await?;
    if !access.manages(m.organisation_id) {
        return Err(ApiError::Forbidden(why.into()));
    }
    Ok(m)
}

/// Get a membership
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "get_membership",
    description = "One membership: for the person, the organisation's admins and clients, and facilitators.",
    params(("id" = Uuid, Path, description = "The membership's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The membership.", body = MembershipView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/memberships/{id}")]
pub(super) async fn get_membership(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    let m = membership_for(&state, &access, id).await?;
    let mut view = MembershipView::from(&m);
    add_own_refs(&state, &access, std::slice::from_mut(&mut view)).await?;
    add_groups(&state, std::slice::from_mut(&mut view)).await?;
    Ok(respond_tagged(&req, m.version, &view))
}

/// Update a membership
///
/// Changes a membership's role or period with a JSON Merge Patch (RFC 7396): to end it,
/// set `ends_on`. The organisation's admins, its clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "update_membership",
    params(("id" = Uuid, Path, description = "The membership's id"), IfMatch),
    request_body(content = MembershipPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = MembershipView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The membership changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/memberships/{id}")]
pub(super) async fn update_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<MembershipPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller)?;
    let current =
        managed_membership(&state, &access, id, "Only the organisation's admins and facilitators change memberships.")
            .await?;
    let patch = body.0;
    let mut inv = Invalid::default();
    let role = match patch.role {
        Some(Some(r)) => r,
        Some(None) => {
            inv.errors.push(FieldError::cannot_remove("/role"));
            current.terms.role
        }
        None => current.terms.role,
    };
    let starts_on = match patch.starts_on {
        Some(Some(d)) => d,
        Some(None) => {
            inv.errors.push(FieldError::cannot_remove("/starts_on"));
            current.terms.starts_on
        }
        None => current.terms.starts_on,
    };
    let ends_on = patch.ends_on.unwrap_or(current.terms.ends_on);
    inv.finish(|| ())?;
    let terms = MembershipTerms::parse(role, starts_on, ends_on, "")?;
    if terms != current.terms {
        check_admin_rights(&access, current.organisation_id, &[current.terms.role, terms.role])?;
    }
    if_match.check(current.version)?;
    let m = if terms == current.terms {
        current
    } else {
        state.store.update_membership(id, current.version, terms).await?
    };
    let mut view = MembershipView::from(&m);
    add_own_refs(&state, &access, std::slice::from_mut(&mut view)).await?;
    Ok(tagged(m.version, &view))
}

/// Delete a membership
///
/// Removes a membership (to keep its history, end it with `ends_on` instead). The
/// organisation's admins, its clients with `people:write`, and facilitators.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "delete_membership",
    params(("id" = Uuid, Path, description = "The membership's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only the organisation's admins and facilitators. An `org_admin` membership (granting, changing or ending one) only by the organisation's admins and facilitators, never by integration clients.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The membership changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/memberships/{id}")]
pub(super) async fn delete_membership(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller)?;
    remove_membership(&state, &access, id.into_inner(), &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a membership the caller manages (`404` when they may not see it, `403` when they
/// do not manage it or it is an admin's and they may not grant that), at the `If-Match`
/// version when one is sent.
pub(super) async fn remove_membership(state: &AppState, access: &Access, id: Uuid, if_match: &IfMatch) -> Result<()> {
    let current =
        managed_membership(state, access, id, "Only the organisation's admins and facilitators remove memberships.")
            .await?;
    check_admin_rights(access, current.organisation_id, &[current.terms.role])?;
    if_match.check(current.version)?;
    Ok(state.store.delete_membership(id, Some(current.version)).await?)
}
