//! Shared solutions: co-authored answers to challenges, with every change kept as a
//! revision, edits guarded by a required `If-Match`, co-authors, endorsements and search.
//! Drafts are read by their co-authors (and facilitators); published solutions by anyone.

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::events::{access_of, visible_event};
use crate::api::organisations::ThemeSlug;
use crate::auth::access::Access;
use crate::auth::rights::Role;
use crate::auth::{Caller, MaybeCaller};
use crate::db::Found;
use crate::db::StoreError;
use crate::db::feed::feed_resource;
use crate::db::page::{Keyset, Sort, SortField};
use crate::db::solutions::{ContentSort, Drafts, ListOrder, ListPage, NextPage, SolutionFilter};
use crate::domain::Invalid;
use crate::domain::organisation::{SizeBand, parse_nace};
use crate::domain::solution::{
    Author, CoAuthor, Context, Endorsement, Maturity, NOTE_MAX, Revision, RevisionChange, Solution, SolutionContent,
    SolutionStatus, TargetGroup, search_words,
};
use crate::domain::validation::optional_text;
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfMatchRequired, IfNoneMatch, created, etag, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::page_cache::CachedPage;
use crate::http::pagination::{
    CursorCodec, DEFAULT_LIMIT, ListResponse, MAX_LIMIT, PageQuery, parse_q, renamed, respond_rendered,
};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub use co_authors::*;
pub use drafts::*;
pub use endorsements::*;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_solutions)
        .service(create_solution)
        .service(get_solution)
        .service(update_solution)
        .service(delete_solution)
        .service(list_revisions)
        .service(get_revision)
        .service(add_co_author)
        .service(get_co_author)
        .service(remove_co_author)
        .service(list_endorsements)
        .service(get_my_endorsement)
        .service(endorse)
        .service(withdraw_endorsement);
}

/// Who wrote something: a person, or a former member who erased their account.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31", "name": "Mira Peeters", "former_member": false}))]
pub struct AuthorView {
    /// `null` for a former member.
    pub person_id: Option<Uuid>,
    /// `null` for a former member.
    pub name: Option<String>,
    /// The author erased their account; what they wrote stays.
    pub former_member: bool,
}

impl From<&Author> for AuthorView {
    fn from(a: &Author) -> Self {
        Self { person_id: a.person_id, name: a.name.clone(), former_member: a.person_id.is_none() }
    }
}

/// A co-author of a solution.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31", "name": "Mira Peeters", "former_member": false,
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "added_at": "2026-09-01T08:00:00Z"}))]
pub struct CoAuthorView {
    /// `null` for a former member.
    pub person_id: Option<Uuid>,
    pub name: Option<String>,
    pub former_member: bool,
    /// The organisation they act for.
    pub organisation_id: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

impl From<&CoAuthor> for CoAuthorView {
    fn from(a: &CoAuthor) -> Self {
        let author = AuthorView::from(&a.author);
        Self {
            person_id: author.person_id,
            name: author.name,
            former_member: author.former_member,
            organisation_id: a.organisation_id,
            added_at: a.added_at,
        }
    }
}

/// A shared solution.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "title": "Leerpeters en -meters voor vijftigplussers",
    "summary": "Ervaren medewerkers begeleiden nieuwe collega's en leren zelf bij.",
    "body": "## Aanpak\n\nElke nieuwe collega krijgt een peter of meter van 50+...",
    "challenge_ids": ["0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d51"],
    "event_id": null,
    "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers", "newcomers"]},
    "themes": ["older-workers", "workplace-learning"],
    "maturity": "piloted",
    "results": "12 duo's in 2026; 10 nieuwe collega's bleven na een jaar.",
    "status": "published",
    "published_at": "2026-10-02T08:00:00Z",
    "co_authors": [{"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d31", "name": "Mira Peeters", "former_member": false,
        "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11", "added_at": "2026-09-01T08:00:00Z"}],
    "endorsement_count": 3,
    "comment_count": 2,
    "adoption_count": 5,
    "created_at": "2026-09-01T08:00:00Z",
    "updated_at": "2026-10-02T08:00:00Z",
    "version": 4
}))]
pub struct SolutionView {
    pub id: Uuid,
    pub title: String,
    /// Plain text.
    pub summary: Option<String>,
    /// Markdown, as written; render it as untrusted text.
    pub body: Option<String>,
    /// The challenges it answers.
    pub challenge_ids: Vec<Uuid>,
    /// The event where it was co-created.
    pub event_id: Option<Uuid>,
    pub context: Context,
    /// Theme slugs.
    pub themes: Vec<String>,
    pub maturity: Maturity,
    /// Results and evidence.
    pub results: Option<String>,
    pub status: SolutionStatus,
    pub published_at: Option<DateTime<Utc>>,
    /// The people who write it, and the organisations they act for.
    pub co_authors: Vec<CoAuthorView>,
    /// Members who said "we use this too". Live; does not move the version.
    pub endorsement_count: i64,
    /// Live; does not move the version.
    pub comment_count: i64,
    /// Learning records that name this solution (adoption). Live; does not move the version.
    pub adoption_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The revision number; the `ETag` is this number in quotes.
    pub version: i64,
}

impl From<&Solution> for SolutionView {
    fn from(s: &Solution) -> Self {
        let c = &s.content;
        Self {
            id: s.id,
            title: c.title.clone(),
            summary: c.summary.clone(),
            body: c.body.clone(),
            challenge_ids: c.challenge_ids.clone(),
            event_id: c.event_id,
            context: c.context.clone(),
            themes: c.themes.clone(),
            maturity: c.maturity,
            results: c.results.clone(),
            status: c.status,
            published_at: s.published_at,
            co_authors: s.co_authors.iter().map(CoAuthorView::from).collect(),
            endorsement_count: s.endorsement_count,
            comment_count: s.comment_count,
            adoption_count: s.adoption_count,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}

feed_resource!(Solution, Solution, |s| SolutionView::from(s));

/// One revision: who made it, what it changed, and the full content as of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "number": 2,
    "author": {"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d32", "name": "Jonas Claes", "former_member": false},
    "change": "edited",
    "created_at": "2026-09-15T10:00:00Z",
    "content": {"title": "Leerpeters en -meters voor vijftigplussers", "summary": "Ervaren medewerkers begeleiden nieuwe collega's.",
        "body": "## Aanpak\n\n...", "challenge_ids": [], "event_id": null,
        "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers"]},
        "themes": ["older-workers"], "maturity": "piloted", "results": null, "status": "draft"}
}))]
pub struct RevisionView {
    /// 1 for the first; the solution's `version` is its latest revision.
    pub number: i64,
    pub author: AuthorView,
    pub change: RevisionChange,
    pub created_at: DateTime<Utc>,
    /// The full content as of this revision; revision `number - 1` holds what it replaced.
    pub content: SolutionContent,
}

impl From<&Revision> for RevisionView {
    fn from(r: &Revision) -> Self {
        Self {
            number: r.number,
            author: AuthorView::from(&r.author),
            change: r.change,
            created_at: r.created_at,
            content: r.content.clone(),
        }
    }
}

/// An endorsement: a member says "we use this too".
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d61",
    "solution_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "author": {"person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d33", "name": "Lotte Maes", "former_member": false},
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12",
    "note": "Wij doen dit sinds september in ons atelier.",
    "created_at": "2026-10-05T09:00:00Z",
    "updated_at": "2026-10-05T09:00:00Z",
    "version": 1
}))]
pub struct EndorsementView {
    pub id: Uuid,
    pub solution_id: Uuid,
    pub author: AuthorView,
    /// The organisation that uses it.
    pub organisation_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&Endorsement> for EndorsementView {
    fn from(e: &Endorsement) -> Self {
        Self {
            id: e.id,
            solution_id: e.solution_id,
            author: AuthorView::from(&e.author),
            organisation_id: e.organisation_id,
            note: e.note.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        }
    }
}

feed_resource!(Endorsement, Endorsement, |e| EndorsementView::from(e));

/// Checks the `theme` and `sector` filters.
pub(crate) fn theme_and_sector(
    theme: Option<String>,
    sector: Option<String>,
) -> Result<(Option<String>, Option<String>)> {
    let theme = theme
        .map(|t| {
            crate::domain::theme::Slug::parse(&t)
                .map(|s| s.as_str().to_string())
                .map_err(|e| ApiError::BadRequest(format!("`theme` {e}.")))
        })
        .transpose()?;
    let sector =
        sector.map(|s| parse_nace(&s).map_err(|e| ApiError::BadRequest(format!("`sector` {e}.")))).transpose()?;
    Ok((theme, sector))
}

/// A parsed list request with relevance: where to continue, page size, the cursor's query.
pub(crate) struct ListRequest {
    pub order: ListOrder,
    pub limit: usize,
    pub key: String,
}

/// Parses `limit`, `sort` and `cursor` for a list that can rank by relevance to `q`.
pub(crate) fn list_request(
    codec: &CursorCodec,
    base: String,
    has_q: bool,
    limit: Option<i64>,
    sort: Option<&str>,
    cursor: Option<&str>,
) -> Result<ListRequest> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::BadRequest(format!("`limit` must be between 1 and {MAX_LIMIT} (got {n})."))),
    };
    let cursor = cursor.filter(|c| !c.is_empty());
    // Without `q` every row is as relevant as the next: `relevance` is the default order.
    let relevance = has_q && matches!(sort, None | Some("relevance"));
    let sort = sort.filter(|s| *s != "relevance");
    if relevance {
        let key = format!("{base}&sort=relevance");
        let after = cursor.map(|c| codec.decode_value::<(f64, Uuid)>(&key, c)).transpose()?;
        return Ok(ListRequest { order: ListOrder::Relevance { after }, limit, key });
    }
    let sort: Sort<ContentSort> = match sort {
        None => Sort::default(),
        Some(s) => Sort::parse(s).map_err(|e| ApiError::BadRequest(format!("{e}, or `relevance` with `q`.")))?,
    };
    let key = format!("{base}&sort={}", sort.as_param());
    let after: Option<Keyset> = cursor.map(|c| codec.decode(&key, c)).transpose()?;
    if after.as_ref().is_some_and(|k| !sort.field.accepts(&k.value)) {
        return Err(ApiError::BadRequest("`cursor` does not fit this sort order.".into()));
    }
    Ok(ListRequest { order: ListOrder::Field { sort, after }, limit, key })
}

/// Renders a page of a list made by [`list_request`].
pub(crate) fn render_list<T, U: Serialize>(
    codec: &CursorCodec,
    request: &ListRequest,
    page: ListPage<T>,
    view: impl Fn(&T) -> U,
) -> CachedPage {
    let next_cursor = page.next.map(|n| match n {
        NextPage::Relevance(score, id) => codec.encode_value(&request.key, &(score, id)),
        NextPage::Field(k) => codec.encode(&request.key, &k),
    });
    let body = ListResponse { data: page.items.iter().map(view).collect(), next_cursor: next_cursor.clone() };
    CachedPage { body: serde_json::to_vec(&body).unwrap_or_default().into(), next_cursor }
}

/// Answers a page of a list made by [`list_request`].
pub(crate) fn respond_list<T, U: Serialize>(
    req: &HttpRequest,
    codec: &CursorCodec,
    request: &ListRequest,
    page: ListPage<T>,
    view: impl Fn(&T) -> U,
) -> HttpResponse {
    respond_rendered(req, &render_list(codec, request, page, view))
}

fn empty_list<U: Serialize>() -> HttpResponse {
    HttpResponse::Ok().json(ListResponse::<U> { data: vec![], next_cursor: None })
}

/// Whether `access` may edit `s`: its co-authors and facilitators.
fn edits(access: &Access, s: &Solution) -> bool {
    policy::decide(Some(access), Action::Change, &Object::solution(&s.co_author_ids(), s)).allowed()
}

/// A solution the caller may read: published, or a draft they co-author (facilitators:
/// every draft). Anything else is a 404, like a solution that does not exist.
pub(crate) async fn visible_solution(state: &AppState, access: Option<&Access>, id: Uuid) -> Result<Solution> {
    let missing = || ApiError::not_found(format!("No solution with id {id}."));
    let s = state.store.get_solution(id).await.or_not_found(missing)?;
    policy::check(access, Action::Read, &Object::solution(&s.co_author_ids(), &s), missing, "")?;
    Ok(s)
}

/// The person behind a caller who writes: 403 for integration clients.
fn writer(access: &Access, what: &str) -> Result<Uuid> {
    access.person_id().ok_or_else(|| ApiError::Forbidden(format!("Integration clients do not {what}; people do.")))
}

/// 422 unless `organisation` is one `person` belongs to.
async fn check_belongs(state: &AppState, person: Uuid, organisation: Option<Uuid>, pointer: &str) -> Result<()> {
    let Some(org) = organisation else { return Ok(()) };
    let mine = state.store.affiliations(&[person], state.today()).await?;
    if mine.iter().any(|(_, o, _)| *o == org) {
        Ok(())
    } else {
        Err(Invalid::one(pointer, "must be an organisation the person belongs to").into())
    }
}

/// 404 with a pointer for themes, challenges or an event that do not exist (or are hidden).
async fn check_references(state: &AppState, access: &Access, c: &SolutionContent) -> Result<()> {
    let missing = state.store.missing_theme_slugs(&c.themes).await?;
    if let Some(first) = missing.first() {
        let index = c.themes.iter().position(|t| t == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{first}`."),
            pointer: format!("/themes/{index}"),
        });
    }
    let missing = state.store.missing_challenges(&c.challenge_ids).await?;
    if let Some(first) = missing.first() {
        let index = c.challenge_ids.iter().position(|x| x == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No challenge with id {first}."),
            pointer: format!("/challenge_ids/{index}"),
        });
    }
    if let Some(event) = c.event_id {
        visible_event(state, Some(access), event).await.map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::MissingReference { detail: format!("No event with id {event}."), pointer: "/event_id".into() }
            }
            other => other,
        })?;
    }
    Ok(())
}

fn store_error(id: Uuid) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(format!("No solution with id {id}.")),
        StoreError::VersionMismatch { current } => ApiError::StaleRevision { current },
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_is_the_default_with_q_and_refused_without() {
        let codec = CursorCodec::new(b"k");
        let r = list_request(&codec, "x".into(), true, None, None, None).unwrap();
        assert!(matches!(r.order, ListOrder::Relevance { after: None }));
        let r = list_request(&codec, "x".into(), false, None, None, None).unwrap();
        assert!(matches!(r.order, ListOrder::Field { .. }));
        let r = list_request(&codec, "x".into(), false, None, Some("relevance"), None).unwrap();
        assert!(matches!(r.order, ListOrder::Field { sort, .. } if sort == Sort::default()));
        // A relevance cursor round-trips for its own query only.
        let c = codec.encode_value("x&sort=relevance", &(1.25_f64, Uuid::nil()));
        let r = list_request(&codec, "x".into(), true, Some(20), None, Some(&c)).unwrap();
        assert!(matches!(r.order, ListOrder::Relevance { after: Some((s, _)) } if s == 1.25));
        assert!(list_request(&codec, "y".into(), true, Some(20), None, Some(&c)).is_err());
        assert!(list_request(&codec, "x".into(), true, Some(0), None, None).is_err());
    }
}

mod co_authors;
mod drafts;
mod endorsements;
