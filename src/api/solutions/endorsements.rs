//! Endorsements: who stands behind a solution.

use super::*;

/// Your endorsement of a solution.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Wij doen dit sinds september in ons atelier.", "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12"}))]
pub struct EndorsementBody {
    /// Up to 280 characters.
    #[schema(max_length = 280, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub note: Option<String>,
    /// The organisation that uses it (one you belong to).
    pub organisation_id: Option<Uuid>,
}

/// List a solution's endorsements
///
/// Who uses this solution too, oldest first. Whoever may read the solution.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_endorsements",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), PageQuery),
    responses((status = 200, description = "A page of endorsements.", body = ListResponse<EndorsementView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/solutions/{id}/endorsements")]
pub(super) async fn list_endorsements(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller);
    visible_solution(&state, access.as_ref(), id).await?;
    let request =
        list_request(&state.cursors, format!("endorsements?{id}"), false, query.limit, None, query.cursor.as_deref())?;
    let ListOrder::Field { after, .. } = &request.order else { unreachable!("no relevance without q") };
    let page = state.store.list_endorsements(id, after.as_ref(), request.limit).await?;
    let page = ListPage { items: page.items, next: page.next.map(NextPage::Field) };
    Ok(respond_list(&req, &state.cursors, &request, page, |e| EndorsementView::from(e)))
}

/// Get your endorsement
///
/// Whether you endorsed this solution, and with what note (404 when you did not).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_my_endorsement",
    params(("id" = Uuid, Path, description = "The solution's id"), IfNoneMatch),
    responses(
        (status = 200, description = "Your endorsement.", body = EndorsementView, headers(("ETag" = String, description = "The endorsement's version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "Integration clients do not endorse.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/solutions/{id}/endorsements/me")]
pub(super) async fn get_my_endorsement(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let me = writer(&access, "endorse solutions")?;
    visible_solution(&state, Some(&access), id).await?;
    let e = state
        .store
        .endorsement_of(id, me)
        .await?
        .ok_or_else(|| ApiError::not_found("You have not endorsed this solution."))?;
    Ok(respond_tagged(&req, e.version, &EndorsementView::from(&e)))
}

/// Endorse a solution
///
/// Says "we use this too" for a published solution, with an optional note and the
/// organisation that uses it. One per person: sending it again replaces the note (`200`).
/// Members and facilitators; co-authors do not endorse their own solution (409).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "endorse_solution",
    params(("id" = Uuid, Path, description = "The solution's id")),
    request_body = EndorsementBody,
    responses(
        (status = 200, description = "Your endorsement was updated (or unchanged).", body = EndorsementView,
            headers(("ETag" = String, description = "The endorsement's version, quoted"))),
        (status = 201, description = "You endorsed the solution.", body = EndorsementView,
            headers(("Location" = String, description = "Your endorsement's URL"), ("ETag" = String, description = "The endorsement's version, quoted"))),
        (status = 403, description = "Integration clients and policy readers do not endorse.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You co-author this solution, or it is still a draft.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/solutions/{id}/endorsements/me")]
pub(super) async fn endorse(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<EndorsementBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let me = writer(&access, "endorse solutions")?;
    if caller.has_role(Role::PolicyReader) {
        return Err(ApiError::Forbidden("Members endorse the solutions they use; policy readers do not.".into()));
    }
    let s = visible_solution(&state, Some(&access), id).await?;
    if s.is_co_author(me) {
        return Err(ApiError::conflict("Co-authors do not endorse their own solution.", None));
    }
    if !s.is_published() {
        return Err(ApiError::conflict("A draft cannot be endorsed; it is endorsed once published.", None));
    }
    let b = body.0;
    let note = optional_text(b.note.as_deref(), NOTE_MAX).map_err(|e| Invalid::one("/note", e))?;
    check_belongs(&state, me, b.organisation_id, "/organisation_id").await?;
    let (e, created) =
        state.store.put_endorsement(id, me, b.organisation_id, note.as_deref()).await.map_err(store_error(id))?;
    let mut res = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    if created {
        res.insert_header((header::LOCATION, format!("/v1/solutions/{id}/endorsements/me")));
    }
    Ok(res.insert_header((header::ETAG, etag(e.version))).json(EndorsementView::from(&e)))
}

/// Withdraw your endorsement
///
/// Takes back your "we use this too". Safe to repeat: `204` also when you had not endorsed
/// the solution (or withdrew already).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "withdraw_endorsement",
    params(("id" = Uuid, Path, description = "The solution's id")),
    responses(
        (status = 204, description = "Withdrawn, or there was nothing to withdraw."),
        (status = 403, description = "Integration clients do not endorse.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/solutions/{id}/endorsements/me")]
pub(super) async fn withdraw_endorsement(
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let me = writer(&access, "endorse solutions")?;
    visible_solution(&state, Some(&access), id).await?;
    // Withdrawing is idempotent: a retry, or a withdrawal of nothing, answers the same.
    state.store.delete_endorsement(id, me).await?;
    Ok(HttpResponse::NoContent().finish())
}
