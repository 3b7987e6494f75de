//! Comments on challenges and solutions, with replies one level deep. Authors edit and
//! delete their own; facilitators hide abusive ones (kept, but their text is not shown).

use crate::api::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::events::access_of;
use crate::api::solutions::{AuthorView, list_request, respond_list, visible_solution};
use crate::auth::access::Access;
use crate::auth::{Caller, MaybeCaller};
use crate::db::feed::feed_resource;
use crate::db::solutions::{ListOrder, ListPage, NextPage};
use crate::db::{Found, StoreError};
use crate::domain::Invalid;
use crate::domain::solution::{COMMENT_MAX, Comment, CommentTarget};
use crate::domain::validation::optional_text;
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageQuery};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_challenge_comments)
        .service(comment_challenge)
        .service(list_solution_comments)
        .service(comment_solution)
        .service(get_comment)
        .service(update_comment)
        .service(delete_comment);
}

/// A comment, or a reply to one (`parent_id`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d71",
    "challenge_id": null,
    "solution_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "parent_id": null,
    "author": {"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d33", "name": "Lotte Maes", "former_member": false},
    "body": "Hoe kozen jullie de duo's?",
    "hidden": false,
    "created_at": "2026-10-05T09:00:00Z",
    "updated_at": "2026-10-05T09:00:00Z",
    "version": 1
}))]
pub struct CommentView {
    pub id: Uuid,
    /// The challenge it is on (or `solution_id`).
    pub challenge_id: Option<Uuid>,
    /// The solution it is on (or `challenge_id`).
    pub solution_id: Option<Uuid>,
    /// The comment this replies to; replies are one level deep.
    pub parent_id: Option<Uuid>,
    pub author: AuthorView,
    /// Plain text. `null` when a facilitator hid the comment (its author and facilitators
    /// still see it).
    pub body: Option<String>,
    /// Hidden by a facilitator: it stays in the thread, without its text.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl CommentView {
    /// The comment as `viewer` sees it (`None`: as everyone sees it).
    pub fn of(c: &Comment, viewer: Option<&Access>) -> Self {
        let sees_hidden = viewer.is_some_and(|a| a.is_facilitator() || a.person_id() == c.author.person_id);
        let (challenge_id, solution_id) = match c.target {
            CommentTarget::Challenge(id) => (Some(id), None),
            CommentTarget::Solution(id) => (None, Some(id)),
        };
        Self {
            id: c.id,
            challenge_id,
            solution_id,
            parent_id: c.parent_id,
            author: AuthorView::from(&c.author),
            body: (!c.hidden || sees_hidden).then(|| c.body.clone()),
            hidden: c.hidden,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

feed_resource!(Comment, Comment, |c| CommentView::of(c, None));

/// A new comment, or a reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Hoe kozen jullie de duo's?", "parent_id": null}))]
pub struct NewComment {
    /// Plain text, 1 to 5,000 characters.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub body: String,
    /// The comment you reply to: a top-level comment on the same challenge or solution.
    pub parent_id: Option<Uuid>,
}

/// Changes to a comment: its author changes `body`; a facilitator sets `hidden`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"hidden": true}))]
pub struct CommentPatch {
    /// The new text (authors only).
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub body: Option<String>,
    /// Hide or show again (facilitators only).
    pub hidden: Option<bool>,
}

fn comment_body(body: &str) -> Result<String> {
    match optional_text(Some(body), COMMENT_MAX) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(Invalid::one("/body", "must not be empty").into()),
        Err(e) => Err(Invalid::one("/body", e).into()),
    }
}

/// Checks that the caller may read `target` (404 otherwise).
async fn readable(state: &AppState, access: Option<&Access>, target: CommentTarget) -> Result<()> {
    match target {
        CommentTarget::Challenge(id) => {
            if access.is_none() {
                return Err(ApiError::Unauthorized("Sign in to read challenges and their comments.".into()));
            }
            state.store.get_challenge(id).await.map_err(|e| match e {
                StoreError::NotFound => ApiError::not_found(format!("No challenge with id {id}.")),
                other => other.into(),
            })?;
        }
        CommentTarget::Solution(id) => {
            visible_solution(state, access, id).await?;
        }
    }
    Ok(())
}

async fn list(
    req: &HttpRequest,
    state: &AppState,
    access: Option<&Access>,
    target: CommentTarget,
    query: PageQuery,
) -> Result<HttpResponse> {
    readable(state, access, target).await?;
    let request = list_request(
        &state.cursors,
        format!("comments?{target:?}"),
        false,
        query.limit,
        None,
        query.cursor.as_deref(),
    )?;
    let ListOrder::Field { after, .. } = &request.order else { unreachable!("no relevance without q") };
    let page = state.store.list_comments(target, after.as_ref(), request.limit).await?;
    let page = ListPage { items: page.items, next: page.next.map(NextPage::Field) };
    Ok(respond_list(req, &state.cursors, &request, page, |c| CommentView::of(c, access)))
}

async fn create(state: &AppState, caller: &Caller, target: CommentTarget, body: NewComment) -> Result<HttpResponse> {
    let access = Access::of(caller);
    let me = access
        .person_id()
        .ok_or_else(|| ApiError::Forbidden("Integration clients do not comment; people do.".into()))?;
    readable(state, Some(&access), target).await?;
    let text = comment_body(&body.body)?;
    if let Some(parent) = body.parent_id {
        let p = state.store.get_comment(parent).await.found()?;
        match p {
            Some(p) if p.target == target && p.parent_id.is_none() => {}
            Some(p) if p.target == target => {
                return Err(Invalid::one(
                    "/parent_id",
                    "is a reply; replies are one level deep, so reply to its parent",
                )
                .into());
            }
            _ => return Err(Invalid::one("/parent_id", "must be a comment on the same challenge or solution").into()),
        }
    }
    let c = state.store.create_comment(target, body.parent_id, me, &text).await.map_err(|e| match e {
        // The parent was deleted in between.
        StoreError::NotFound => {
            ApiError::from(Invalid::one("/parent_id", "must be a comment on the same challenge or solution"))
        }
        other => other.into(),
    })?;
    Ok(created(format!("/v1/comments/{}", c.id), c.version, &CommentView::of(&c, Some(&access))))
}

/// List a challenge's comments
///
/// Every comment on the challenge, oldest first; replies carry `parent_id`. Hidden comments
/// keep their place without their text. Any signed-in caller.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_challenge_comments",
    params(("id" = Uuid, Path, description = "The challenge's id"), PageQuery),
    responses((status = 200, description = "A page of comments.", body = ListResponse<CommentView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/challenges/{id}/comments")]
async fn list_challenge_comments(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    list(&req, &state, Some(&access), CommentTarget::Challenge(id.into_inner()), query.into_inner()).await
}

/// Comment on a challenge
///
/// Adds a comment, or a reply to a top-level comment (`parent_id`; a reply to a reply is
/// refused). Any person.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "comment_challenge",
    params(("id" = Uuid, Path, description = "The challenge's id")),
    request_body = NewComment,
    responses(
        (status = 201, description = "Created.", body = CommentView,
            headers(("Location" = String, description = "The comment's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Integration clients do not comment.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/challenges/{id}/comments")]
async fn comment_challenge(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewComment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    create(&state, &caller, CommentTarget::Challenge(id.into_inner()), body.0).await
}

/// List a solution's comments
///
/// Every comment on the solution, oldest first; replies carry `parent_id`. Whoever may
/// read the solution (also without a token, once it is published).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_solution_comments",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), PageQuery),
    responses((status = 200, description = "A page of comments.", body = ListResponse<CommentView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/solutions/{id}/comments")]
async fn list_solution_comments(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller);
    list(&req, &state, access.as_ref(), CommentTarget::Solution(id.into_inner()), query.into_inner()).await
}

/// Comment on a solution
///
/// Adds a comment, or a reply to a top-level comment (`parent_id`). Any person who may
/// read the solution.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "comment_solution",
    params(("id" = Uuid, Path, description = "The solution's id")),
    request_body = NewComment,
    responses(
        (status = 201, description = "Created.", body = CommentView,
            headers(("Location" = String, description = "The comment's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Integration clients do not comment.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/solutions/{id}/comments")]
async fn comment_solution(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewComment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    create(&state, &caller, CommentTarget::Solution(id.into_inner()), body.0).await
}

/// A comment the caller may read, with the caller's reach.
async fn readable_comment(state: &AppState, caller: &Caller, id: Uuid) -> Result<(Comment, Access)> {
    let access = Access::of(caller);
    let c = state.store.get_comment(id).await.or_not_found(|| no_comment(id))?;
    // What it is on is hidden from the caller: so is the comment. Any other failure (an
    // outage) passes on as itself.
    readable(state, Some(&access), c.target).await.map_err(|e| match e {
        ApiError::NotFound(_) => no_comment(id),
        other => other,
    })?;
    Ok((c, access))
}

fn no_comment(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No comment with id {id}."))
}

/// Get a comment
///
/// One comment with its `ETag`, for whoever may read what it is on. A hidden comment's
/// `body` is `null` except for its author and facilitators.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_comment",
    params(("id" = Uuid, Path, description = "The comment's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The comment.", body = CommentView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/comments/{id}")]
async fn get_comment(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (c, access) = readable_comment(&state, &caller, id.into_inner()).await?;
    Ok(respond_tagged(&req, c.version, &CommentView::of(&c, Some(&access))))
}

/// Edit or hide a comment
///
/// Its author changes `body`; a facilitator hides it (`hidden: true`) or shows it again.
/// A hidden comment stays in the thread, but only its author and facilitators see its
/// text. `If-Match` is honoured when sent.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "update_comment",
    params(("id" = Uuid, Path, description = "The comment's id"), IfMatch),
    request_body = CommentPatch,
    responses(
        (status = 200, description = "Updated.", body = CommentView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only its author edits a comment; only facilitators hide one.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The comment changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/comments/{id}")]
async fn update_comment(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<CommentPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let (current, access) = readable_comment(&state, &caller, id).await?;
    let p = body.0;
    if p.body.is_some() {
        let object = Object::Comment { author: current.author.person_id };
        policy::check(Some(&access), Action::Change, &object, || no_comment(id), "Only its author edits a comment.")?;
    }
    if p.hidden.is_some() && !access.is_facilitator() {
        return Err(ApiError::Forbidden("Only facilitators hide comments.".into()));
    }
    let text = p.body.as_deref().map(comment_body).transpose()?.unwrap_or_else(|| current.body.clone());
    let hidden = p.hidden.unwrap_or(current.hidden);
    if_match.check(current.version)?;
    if text == current.body && hidden == current.hidden {
        return Ok(tagged(current.version, &CommentView::of(&current, Some(&access))));
    }
    // Recorded only when the flag changes (the store keeps it otherwise).
    let hidden_by = if hidden { access.person_id() } else { None };
    let c = state.store.update_comment(id, Some(current.version), &text, hidden, hidden_by).await?;
    Ok(tagged(c.version, &CommentView::of(&c, Some(&access))))
}

/// Delete a comment
///
/// Its author or a facilitator deletes a comment; its replies go with it.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "delete_comment",
    params(("id" = Uuid, Path, description = "The comment's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted, with its replies."),
        (status = 403, description = "Only its author (or a facilitator) deletes a comment.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The comment changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/comments/{id}")]
async fn delete_comment(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let (current, access) = readable_comment(&state, &caller, id).await?;
    let (object, why) =
        (Object::Comment { author: current.author.person_id }, "Only its author (or a facilitator) deletes a comment.");
    policy::check(Some(&access), Action::Delete, &object, || no_comment(id), why)?;
    if_match.check(current.version)?;
    let expected = (!if_match.is_absent()).then_some(current.version);
    state.store.delete_comment(id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}
