//! Challenges: questions stakeholders bring to the network. Every signed-in caller reads
//! them; people bring them; the author and facilitators edit and close them.

use crate::api::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::organisations::ThemeSlug;
use crate::api::solutions::{AuthorView, list_request, respond_list, theme_and_sector};
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::db::Found;
use crate::db::feed::feed_resource;
use crate::db::solutions::ChallengeFilter;
use crate::domain::Invalid;
use crate::domain::organisation::SizeBand;
use crate::domain::solution::{Challenge, ChallengeContent, ChallengeStatus, Context, TargetGroup, search_words};
use crate::domain::validation::{merge, merge_or_default};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, parse_q, renamed};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_challenges)
        .service(create_challenge)
        .service(get_challenge)
        .service(update_challenge)
        .service(delete_challenge);
}

/// A challenge a stakeholder brings to the network.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d51",
    "title": "Hoe houden we vijftigplussers aan het leren?",
    "description": "Onze oudere verpleegkundigen volgen amper nog opleiding. Wie heeft ervaring met ...",
    "author": {"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d32", "name": "Jonas Claes", "former_member": false},
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers"]},
    "themes": ["older-workers", "careers-at-every-age"],
    "status": "open",
    "solution_count": 1,
    "comment_count": 3,
    "created_at": "2026-09-01T08:00:00Z",
    "updated_at": "2026-09-01T08:00:00Z",
    "version": 1
}))]
pub struct ChallengeView {
    pub id: Uuid,
    pub title: String,
    /// Markdown, as written; render it as untrusted text.
    pub description: Option<String>,
    pub author: AuthorView,
    /// The organisation the author brings it for.
    pub organisation_id: Option<Uuid>,
    pub context: Context,
    pub themes: Vec<String>,
    pub status: ChallengeStatus,
    /// Published solutions that answer it. Live; does not move the version.
    pub solution_count: i64,
    /// Live; does not move the version.
    pub comment_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl From<&Challenge> for ChallengeView {
    fn from(c: &Challenge) -> Self {
        let x = &c.content;
        Self {
            id: c.id,
            title: x.title.clone(),
            description: x.description.clone(),
            author: AuthorView::from(&c.author),
            organisation_id: x.organisation_id,
            context: x.context.clone(),
            themes: x.themes.clone(),
            status: x.status,
            solution_count: c.solution_count,
            comment_count: c.comment_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

feed_resource!(Challenge, Challenge, |c| ChallengeView::from(c));

/// A new challenge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Hoe houden we vijftigplussers aan het leren?",
    "description": "Onze oudere verpleegkundigen volgen amper nog opleiding. Wie heeft ervaring met leren op de werkvloer?",
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers"]},
    "themes": ["older-workers"]
}))]
pub struct NewChallenge {
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    /// Markdown, up to 20,000 characters; stored as given, never rendered or executed.
    #[schema(max_length = 20000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<String>,
    /// The organisation you bring it for (one you belong to).
    pub organisation_id: Option<Uuid>,
    #[serde(default)]
    pub context: Context,
    /// Slugs of existing themes, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<ThemeSlug>,
    /// Default `open`.
    pub status: Option<ChallengeStatus>,
}

/// Changes to a challenge, as a JSON Merge Patch (RFC 7396).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "addressed"}))]
pub struct ChallengePatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<Option<String>>,
    /// Only the author changes it (to an organisation they belong to).
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub organisation_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Context>)]
    pub context: Option<Option<Context>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<ThemeSlug>>, max_items = 20)]
    pub themes: Option<Option<Vec<ThemeSlug>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<ChallengeStatus>, nullable = false)]
    pub status: Option<Option<ChallengeStatus>>,
}

/// Filters, sort and page of the challenge list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChallengeListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `relevance` (the default; without `q` it is the `created_at` order), `created_at`,
    /// `updated_at` or `title`; prefix `-` for descending (not for relevance).
    #[param(value_type = Option<String>, example = "relevance", pattern = "^(relevance|-?(created_at|updated_at|title))$")]
    pub sort: Option<String>,
    /// Words to find in title and description: every word must match, each as the start of
    /// a word; case and accents do not matter. For example `vijftigplussers`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Only those with this theme (slug). For example `older-workers`.
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<String>,
    /// A NACE section letter (`Q`) or code prefix (`86`).
    #[param(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub target_group: Option<TargetGroup>,
    pub status: Option<ChallengeStatus>,
    /// Challenges this person brought (`author.person_id`).
    pub author_id: Option<Uuid>,
    /// Challenges brought for this organisation.
    pub organisation_id: Option<Uuid>,
    /// The old name of `author_id`.
    #[deprecated = "use `author_id`"]
    pub author: Option<Uuid>,
    /// The old name of `organisation_id`.
    #[deprecated = "use `organisation_id`"]
    pub organisation: Option<Uuid>,
}

fn no_challenge(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No challenge with id {id}."))
}

/// Validates a challenge and checks its themes and organisation.
async fn validated(state: &AppState, author: Uuid, input: ChallengeContent) -> Result<ChallengeContent> {
    let content = ChallengeContent::parse(input)?;
    let missing = state.store.missing_theme_slugs(&content.themes).await?;
    if let Some(first) = missing.first() {
        let index = content.themes.iter().position(|t| t == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{first}`."),
            pointer: format!("/themes/{index}"),
        });
    }
    if let Some(org) = content.organisation_id {
        let mine = state.store.affiliations(&[author], state.today()).await?;
        if !mine.iter().any(|(_, o, _)| *o == org) {
            return Err(Invalid::one("/organisation_id", "must be an organisation the author belongs to").into());
        }
    }
    Ok(content)
}

/// List and search challenges
///
/// Every challenge, for any signed-in caller. `q` searches title and description for Dutch
/// text (every word as the start of a word; accents and case do not matter), most relevant
/// first; filters combine with it.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_challenges",
    params(ChallengeListQuery),
    responses((status = 200, description = "A page of challenges.", body = ListResponse<ChallengeView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/challenges")]
#[allow(deprecated)] // reads the old filter names too
async fn list_challenges(
    req: HttpRequest,
    _caller: Caller,
    query: web::Query<ChallengeListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let q = parse_q(query.q.as_deref(), 200)?;
    let words = q.as_deref().map(search_words);
    let (theme, sector) = theme_and_sector(query.theme, query.sector)?;
    let filter = ChallengeFilter {
        words: words.clone().flatten(),
        theme,
        sector,
        size_band: query.size_band,
        target_group: query.target_group,
        status: query.status,
        author: renamed(query.author_id, query.author),
        organisation: renamed(query.organisation_id, query.organisation),
    };
    let request = list_request(
        &state.cursors,
        format!("challenges?{filter:?}"),
        q.is_some(),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    if matches!(words, Some(None)) {
        return Ok(HttpResponse::Ok().json(ListResponse::<ChallengeView> { data: vec![], next_cursor: None }));
    }
    let page = state.store.list_challenges(&filter, &request.order, request.limit).await?;
    Ok(respond_list(&req, &state.cursors, &request, page, |c| ChallengeView::from(c)))
}

/// Bring a challenge
///
/// Poses a question to the network, optionally on behalf of an organisation you belong
/// to. Any person (members, policy readers, facilitators); integration clients do not.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "create_challenge",
    request_body = NewChallenge,
    responses(
        (status = 201, description = "Created.", body = ChallengeView,
            headers(("Location" = String, description = "The new challenge's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Integration clients do not bring challenges.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A theme does not exist (`errors` points at it).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/challenges")]
async fn create_challenge(
    caller: Caller,
    body: Json<NewChallenge>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let me = access
        .person_id()
        .ok_or_else(|| ApiError::Forbidden("Integration clients do not bring challenges; people do.".into()))?;
    let b = body.0;
    let content = validated(
        &state,
        me,
        ChallengeContent {
            title: b.title,
            description: b.description,
            organisation_id: b.organisation_id,
            context: b.context,
            themes: b.themes.into_iter().map(|t| t.0).collect(),
            status: b.status.unwrap_or(ChallengeStatus::Open),
        },
    )
    .await?;
    let c = state.store.create_challenge(me, &content).await?;
    Ok(created(format!("/v1/challenges/{}", c.id), c.version, &ChallengeView::from(&c)))
}

/// Get a challenge
///
/// One challenge with its `ETag`; `If-None-Match` gives `304` while it is unchanged.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_challenge",
    params(("id" = Uuid, Path, description = "The challenge's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The challenge.", body = ChallengeView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/challenges/{id}")]
async fn get_challenge(
    req: HttpRequest,
    _caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let c = state.store.get_challenge(id).await.or_not_found(|| no_challenge(id))?;
    Ok(respond_tagged(&req, c.version, &ChallengeView::from(&c)))
}

/// Update a challenge
///
/// Changes a challenge with a JSON Merge Patch (RFC 7396), including its `status` (`open`,
/// `addressed`, `closed`). Its author and facilitators. Send `If-Match` with the ETag you
/// read to be sure nobody changed it since (`412` otherwise).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "update_challenge",
    params(("id" = Uuid, Path, description = "The challenge's id"), IfMatch),
    request_body(content = ChallengePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = ChallengeView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "You are not its author (or a facilitator).", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The challenge changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/challenges/{id}")]
async fn update_challenge(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<ChallengePatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = state.store.get_challenge(id).await.or_not_found(|| no_challenge(id))?;
    let is_author = access.person_id().is_some() && current.author.person_id == access.person_id();
    let (object, why) = (
        Object::Challenge { author: current.author.person_id },
        "Only its author (and facilitators) edit a challenge.",
    );
    policy::check(Some(&access), Action::Change, &object, || no_challenge(id), why)?;
    let p = body.0;
    if p.organisation_id.is_some() && !is_author {
        return Err(ApiError::Forbidden("Only the author says on whose behalf they bring a challenge.".into()));
    }
    let mut input = current.content.clone();
    let mut inv = Invalid::default();
    inv.required("/title", p.title, &mut input.title);
    merge(p.description, &mut input.description);
    merge(p.organisation_id, &mut input.organisation_id);
    merge_or_default(p.context, &mut input.context);
    if let Some(t) = p.themes {
        input.themes = t.unwrap_or_default().into_iter().map(|t| t.0).collect();
    }
    inv.required("/status", p.status, &mut input.status);
    if !inv.errors.is_empty() {
        return Err(inv.into());
    }
    // The organisation is checked against the author's memberships (a facilitator keeps it).
    let author = current.author.person_id.unwrap_or_default();
    let content = if input.organisation_id == current.content.organisation_id {
        let mut unchanged = ChallengeContent::parse(input)?;
        let missing = state.store.missing_theme_slugs(&unchanged.themes).await?;
        if let Some(first) = missing.first() {
            let index = unchanged.themes.iter().position(|t| t == first).unwrap_or(0);
            return Err(ApiError::MissingReference {
                detail: format!("No theme with slug `{first}`."),
                pointer: format!("/themes/{index}"),
            });
        }
        unchanged.organisation_id = current.content.organisation_id;
        unchanged
    } else {
        validated(&state, author, input).await?
    };
    if_match.check(current.version)?;
    if content == current.content {
        return Ok(tagged(current.version, &ChallengeView::from(&current)));
    }
    let c = state.store.update_challenge(id, current.version, &content).await.or_not_found(|| no_challenge(id))?;
    Ok(tagged(c.version, &ChallengeView::from(&c)))
}

/// Delete a challenge
///
/// Removes a challenge and its comments (moderation); solutions that answered it no longer
/// name it. Facilitators only: authors close a challenge instead (`status: closed`).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "delete_challenge",
    params(("id" = Uuid, Path, description = "The challenge's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only facilitators delete challenges.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The challenge changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/challenges/{id}")]
async fn delete_challenge(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = state.store.get_challenge(id).await.or_not_found(|| no_challenge(id))?;
    let (object, why) = (
        Object::Challenge { author: current.author.person_id },
        "Only facilitators delete a challenge; its author closes it instead.",
    );
    policy::check(Some(&access), Action::Delete, &object, || no_challenge(id), why)?;
    if_match.check(current.version)?;
    let expected = (!if_match.is_absent()).then_some(current.version);
    state.store.delete_challenge(id, expected).await.or_not_found(|| no_challenge(id))?;
    Ok(HttpResponse::NoContent().finish())
}
