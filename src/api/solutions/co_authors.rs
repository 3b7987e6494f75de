//! Co-authors of a solution: invite, show, leave.

use super::*;

/// Invites a co-author.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d33", "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12"}))]
pub struct NewCoAuthor {
    /// The person to write with.
    pub person_id: Uuid,
    /// The organisation they act for (one they belong to).
    pub organisation_id: Option<Uuid>,
}

/// Invite a co-author
///
/// A co-author (or facilitator) adds a person as co-author, optionally for an organisation
/// they belong to. They can edit at once; the change is a new revision.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "add_solution_co_author",
    params(("id" = Uuid, Path, description = "The solution's id")),
    request_body = NewCoAuthor,
    responses(
        (status = 201, description = "Added; the solution as it now is.", body = SolutionView,
            headers(("Location" = String, description = "The co-authorship's URL (to leave it)"), ("ETag" = String, description = "The new revision, quoted"))),
        (status = 403, description = "You are not a co-author of this published solution.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person is a co-author already.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/solutions/{id}/co-authors")]
pub(super) async fn add_co_author(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewCoAuthor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = visible_solution(&state, Some(&access), id).await?;
    if !edits(&access, &current) {
        return Err(ApiError::Forbidden("Only the co-authors (and facilitators) invite co-authors.".into()));
    }
    let me = writer(&access, "invite co-authors")?;
    let b = body.0;
    let Ok(invited) = state.store.get_person(b.person_id).await else {
        return Err(ApiError::MissingReference {
            detail: format!("No person with id {}.", b.person_id),
            pointer: "/person_id".into(),
        });
    };
    if invited.role == crate::auth::rights::PersonRole::PolicyReader {
        return Err(Invalid::one("/person_id", "is a policy reader; members (and facilitators) write solutions").into());
    }
    check_belongs(&state, b.person_id, b.organisation_id, "/organisation_id").await?;
    let s = state.store.add_co_author(id, me, b.person_id, b.organisation_id).await.map_err(store_error(id))?;
    Ok(created(format!("/v1/solutions/{id}/co-authors/{}", b.person_id), s.version, &SolutionView::from(&s)))
}

/// Get a co-author of a solution
///
/// One co-author: the person (or a former member) and the organisation they act for.
/// Whoever may read the solution.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_solution_co_author",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), ("person_id" = Uuid, Path, description = "The co-author")),
    responses((status = 200, description = "The co-author.", body = CoAuthorView))
)]
#[get("/v1/solutions/{id}/co-authors/{person_id}")]
pub(super) async fn get_co_author(
    caller: MaybeCaller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, person) = path.into_inner();
    let access = access_of(&caller);
    let s = visible_solution(&state, access.as_ref(), id).await?;
    let a = s
        .co_authors
        .iter()
        .find(|a| a.author.person_id == Some(person))
        .ok_or_else(|| ApiError::not_found(format!("{person} is not a co-author of solution {id}.")))?;
    Ok(HttpResponse::Ok().json(CoAuthorView::from(a)))
}

/// Leave a solution (or remove a co-author)
///
/// A co-author stops being one; facilitators may remove anyone. The last co-author cannot
/// leave (409). The change is a new revision.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "remove_solution_co_author",
    params(("id" = Uuid, Path, description = "The solution's id"), ("person_id" = Uuid, Path, description = "The co-author")),
    responses(
        (status = 204, description = "Removed."),
        (status = 403, description = "Only the person themself (or a facilitator) ends a co-authorship.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last co-author cannot leave.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/solutions/{id}/co-authors/{person_id}")]
pub(super) async fn remove_co_author(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, person) = path.into_inner();
    let access = Access::of(&caller);
    let current = visible_solution(&state, Some(&access), id).await?;
    if !current.is_co_author(person) {
        return Err(ApiError::not_found(format!("{person} is not a co-author of solution {id}.")));
    }
    if !(access.is_facilitator() || access.person_id() == Some(person)) {
        return Err(ApiError::Forbidden("Only the person themself (or a facilitator) ends a co-authorship.".into()));
    }
    let me = writer(&access, "change co-authors")?;
    state.store.remove_co_author(id, me, person).await.map_err(store_error(id))?;
    Ok(HttpResponse::NoContent().finish())
}
