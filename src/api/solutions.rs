//! Shared solutions: co-authored answers to challenges, with every change kept as a
//! revision, edits guarded by a required `If-Match`, co-authors, endorsements and search.
//! Drafts are read by their co-authors (and facilitators); published solutions by anyone.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::events::{access_of, visible_event};
use crate::api::organisations::ThemeSlug;
use crate::auth::access::Access;
use crate::auth::rights::Role;
use crate::auth::{Caller, MaybeCaller};
use crate::db::StoreError;
use crate::db::feed::{FeedResource, ResourceType};
use crate::db::page::{Keyset, Sort, SortField};
use crate::db::solutions::{ContentSort, Drafts, ListOrder, ListPage, NextPage, SolutionFilter};
use crate::domain::organisation::{SizeBand, parse_nace};
use crate::domain::solution::{
    Author, CoAuthor, Context, Endorsement, Maturity, NOTE_MAX, Revision, RevisionChange, Solution, SolutionContent,
    SolutionStatus, TargetGroup, search_words,
};
use crate::domain::validation::optional_text;
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfMatchRequired, IfNoneMatch, etag, respond_tagged};
use crate::http::json::Json;
use crate::http::page_cache::CachedPage;
use crate::http::pagination::{
    CursorCodec, DEFAULT_LIMIT, ListResponse, MAX_LIMIT, PageQuery, parse_q, respond_rendered,
};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
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

impl FeedResource for Solution {
    const TYPE: ResourceType = ResourceType::Solution;

    fn feed_id(&self) -> Uuid {
        self.id
    }

    fn feed_version(&self) -> i64 {
        self.version
    }

    fn feed_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&SolutionView::from(self))
    }
}

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

impl FeedResource for Endorsement {
    const TYPE: ResourceType = ResourceType::Endorsement;

    fn feed_id(&self) -> Uuid {
        self.id
    }

    fn feed_version(&self) -> i64 {
        self.version
    }

    fn feed_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&EndorsementView::from(self))
    }
}

/// A new solution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Leerpeters en -meters voor vijftigplussers",
    "summary": "Ervaren medewerkers begeleiden nieuwe collega's en leren zelf bij.",
    "body": "## Aanpak\n\nElke nieuwe collega krijgt een peter of meter van 50+.",
    "challenge_ids": [],
    "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers", "newcomers"]},
    "themes": ["older-workers"],
    "maturity": "idea",
    "organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11"
}))]
pub struct NewSolution {
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    /// Plain text, up to 1,000 characters.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub summary: Option<String>,
    /// Markdown, up to 50,000 characters; stored as given, never rendered or executed.
    #[schema(max_length = 50000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub body: Option<String>,
    /// Existing challenges it answers, at most 10.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub challenge_ids: Vec<Uuid>,
    /// The event where it was co-created (one you may see).
    pub event_id: Option<Uuid>,
    #[serde(default)]
    pub context: Context,
    /// Slugs of existing themes, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<ThemeSlug>,
    /// Default `idea`.
    pub maturity: Option<Maturity>,
    /// Results and evidence, up to 5,000 characters.
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub results: Option<String>,
    /// The organisation you act for (one you belong to).
    pub organisation_id: Option<Uuid>,
    /// `draft` (default) or `published`.
    pub status: Option<SolutionStatus>,
}

/// Changes to a solution, as a JSON Merge Patch (RFC 7396): members present are replaced;
/// `null` removes an optional member. `status: published` publishes a draft (final).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"maturity": "piloted", "results": "Getest in twee afdelingen; 8 duo's."}))]
pub struct SolutionPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 50000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub body: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 10)]
    pub challenge_ids: Option<Option<Vec<Uuid>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub event_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Context>)]
    pub context: Option<Option<Context>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<ThemeSlug>>, max_items = 20)]
    pub themes: Option<Option<Vec<ThemeSlug>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Maturity>, nullable = false)]
    pub maturity: Option<Option<Maturity>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub results: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<SolutionStatus>, nullable = false)]
    pub status: Option<Option<SolutionStatus>>,
}

fn cannot_remove(pointer: &str) -> FieldError {
    FieldError::new(pointer, "is required and cannot be removed (null)")
}

impl SolutionPatch {
    fn apply(self, mut c: SolutionContent) -> std::result::Result<SolutionContent, Invalid> {
        let mut inv = Invalid::default();
        match self.title {
            Some(Some(t)) => c.title = t,
            Some(None) => inv.errors.push(cannot_remove("/title")),
            None => {}
        }
        if let Some(s) = self.summary {
            c.summary = s;
        }
        if let Some(b) = self.body {
            c.body = b;
        }
        if let Some(ids) = self.challenge_ids {
            c.challenge_ids = ids.unwrap_or_default();
        }
        if let Some(e) = self.event_id {
            c.event_id = e;
        }
        if let Some(ctx) = self.context {
            c.context = ctx.unwrap_or_default();
        }
        if let Some(t) = self.themes {
            c.themes = t.unwrap_or_default().into_iter().map(|t| t.0).collect();
        }
        match self.maturity {
            Some(Some(m)) => c.maturity = m,
            Some(None) => inv.errors.push(cannot_remove("/maturity")),
            None => {}
        }
        if let Some(r) = self.results {
            c.results = r;
        }
        match self.status {
            Some(Some(s)) => c.status = s,
            Some(None) => inv.errors.push(cannot_remove("/status")),
            None => {}
        }
        if !inv.errors.is_empty() {
            return Err(inv);
        }
        SolutionContent::parse(c)
    }
}

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

/// Filters, sort and page of the solution list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SolutionListQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `relevance` (the default; without `q` it is the `created_at` order), `created_at`,
    /// `updated_at` or `title`; prefix `-` for descending (not for relevance).
    #[param(value_type = Option<String>, example = "relevance", pattern = "^(relevance|-?(created_at|updated_at|title))$")]
    pub sort: Option<String>,
    /// Words to find in title, summary, body and results: every word must match, each as
    /// the start of a word; case and accents do not matter (`ontwikkel` finds `Óntwikkeling`).
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "olijfboom loopbaan")]
    pub q: Option<String>,
    /// Only those with this theme (slug).
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64, example = "older-workers")]
    pub theme: Option<String>,
    pub maturity: Option<Maturity>,
    /// A NACE section letter (`Q`) or code prefix (`86`).
    #[param(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub target_group: Option<TargetGroup>,
    /// `draft` lists the drafts you co-author (facilitators: all drafts).
    pub status: Option<SolutionStatus>,
    /// Solutions that answer this challenge.
    pub challenge: Option<Uuid>,
    /// Solutions co-created at this event.
    pub event: Option<Uuid>,
    /// Solutions a co-author wrote for this organisation.
    pub organisation: Option<Uuid>,
    /// Solutions this person co-authors.
    pub co_author: Option<Uuid>,
}

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
    access.is_facilitator() || access.person_id().is_some_and(|p| s.is_co_author(p))
}

/// A solution the caller may read: published, or a draft they co-author (facilitators:
/// every draft). Anything else is a 404, like a solution that does not exist.
pub(crate) async fn visible_solution(state: &AppState, access: Option<&Access>, id: Uuid) -> Result<Solution> {
    let missing = || ApiError::not_found(format!("No solution with id {id}."));
    let s = state.store.get_solution(id).await.map_err(|e| match e {
        StoreError::NotFound => missing(),
        other => other.into(),
    })?;
    if s.is_published() || access.is_some_and(|a| edits(a, &s)) { Ok(s) } else { Err(missing()) }
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

fn tagged(status: actix_web::http::StatusCode, s: &Solution) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, etag(s.version))).json(SolutionView::from(s))
}

/// List and search solutions
///
/// Published solutions for everyone (also without a token); drafts too for their
/// co-authors (facilitators: all). `q` searches title, summary, body and results, for Dutch
/// text: every word must match as the start of a word, accents and case do not matter, and
/// results come by relevance (title above summary above body). Filters combine with `q`.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_solutions",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(SolutionListQuery),
    responses((status = 200, description = "A page of solutions, most relevant first with `q`.", body = ListResponse<SolutionView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/solutions")]
async fn list_solutions(
    req: HttpRequest,
    caller: MaybeCaller,
    query: web::Query<SolutionListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let access = access_of(&caller, &state).await?;
    let q = parse_q(query.q.as_deref(), 200)?;
    let words = q.as_deref().map(search_words);
    let (theme, sector) = theme_and_sector(query.theme, query.sector)?;
    let filter = SolutionFilter {
        drafts: match &access {
            Some(Access::Facilitator { .. }) => Drafts::All,
            Some(Access::Person { id, .. }) => Drafts::CoAuthoredBy(*id),
            _ => Drafts::None,
        },
        words: words.clone().flatten(),
        theme,
        maturity: query.maturity,
        sector,
        size_band: query.size_band,
        target_group: query.target_group,
        status: query.status,
        challenge: query.challenge,
        event: query.event,
        organisation: query.organisation,
        co_author: query.co_author,
    };
    let request = list_request(
        &state.cursors,
        format!("solutions?{filter:?}"),
        q.is_some(),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    // A `q` without a single word finds nothing.
    if matches!(words, Some(None)) {
        return Ok(empty_list::<SolutionView>());
    }
    // A search or list page is rendered once per feed position (every change to what it
    // shows, counts and names included, records a change) and served from memory until
    // then, as for events. The key holds the filters, the drafts the caller may see, the
    // order and where the page starts.
    let key = format!("{}&limit={}&order={:?}", request.key, request.limit, request.order);
    let position = state.store.feed_position().await?;
    if let Some(page) = state.solution_pages.get(&key, position) {
        return Ok(respond_rendered(&req, &page));
    }
    let page = state.store.list_solutions(&filter, &request.order, request.limit).await?;
    let rendered = render_list(&state.cursors, &request, page, |s| SolutionView::from(s));
    let res = respond_rendered(&req, &rendered);
    state.solution_pages.put(key, position, rendered);
    Ok(res)
}

/// Create a solution
///
/// Starts a solution with you as its first co-author (acting for `organisation_id`, an
/// organisation you belong to): a `draft` that only co-authors and facilitators read,
/// unless `status` says `published`. Members and facilitators; revision 1 records it.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "create_solution",
    request_body = NewSolution,
    responses(
        (status = 201, description = "Created.", body = SolutionView,
            headers(("Location" = String, description = "The new solution's URL"), ("ETag" = String, description = "The revision, quoted"))),
        (status = 403, description = "Integration clients and policy readers do not write solutions.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A theme, challenge or event does not exist (`errors` points at it).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/solutions")]
async fn create_solution(caller: Caller, body: Json<NewSolution>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let me = writer(&access, "write solutions")?;
    if caller.has_role(Role::PolicyReader) {
        return Err(ApiError::Forbidden("Policy readers bring challenges; members write solutions.".into()));
    }
    let b = body.0;
    let content = SolutionContent::parse(SolutionContent {
        title: b.title,
        summary: b.summary,
        body: b.body,
        challenge_ids: b.challenge_ids,
        event_id: b.event_id,
        context: b.context,
        themes: b.themes.into_iter().map(|t| t.0).collect(),
        maturity: b.maturity.unwrap_or(Maturity::Idea),
        results: b.results,
        status: b.status.unwrap_or(SolutionStatus::Draft),
    })?;
    check_belongs(&state, me, b.organisation_id, "/organisation_id").await?;
    check_references(&state, &access, &content).await?;
    let s = state.store.create_solution(me, b.organisation_id, &content).await.map_err(store_error(Uuid::nil()))?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/solutions/{}", s.id)))
        .insert_header((header::ETAG, etag(s.version)))
        .json(SolutionView::from(&s)))
}

/// Get a solution
///
/// A published solution for anyone; a draft for its co-authors and facilitators (others
/// get 404). The `ETag` is the revision; `If-None-Match` gives `304` while it is current
/// (the live counts do not move it).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_solution",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The solution.", body = SolutionView, headers(("ETag" = String, description = "The revision, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/solutions/{id}")]
async fn get_solution(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller, &state).await?;
    let s = visible_solution(&state, access.as_ref(), id.into_inner()).await?;
    Ok(respond_tagged(&req, s.version, &SolutionView::from(&s)))
}

/// Update a solution
///
/// Changes a solution with a JSON Merge Patch (RFC 7396) as a new revision. Co-authors and
/// facilitators. `If-Match` is **required**: without it `428`; when someone saved a newer
/// revision since yours, `412` with `current_revision` (and the current `ETag`), so two
/// co-authors never overwrite each other unseen. `status: published` publishes a draft;
/// publishing is final (`409` for the way back).
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "update_solution",
    params(("id" = Uuid, Path, description = "The solution's id"), IfMatchRequired),
    request_body(content = SolutionPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated (or unchanged, with the same revision).", body = SolutionView,
            headers(("ETag" = String, description = "The new revision, quoted"))),
        (status = 403, description = "You are not a co-author of this published solution.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A published solution cannot go back to draft.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "A newer revision exists; `current_revision` and `current_etag` say which.", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://vov.be/problems/precondition-failed", "title": "The resource has changed", "status": 412,
                "detail": "Someone saved revision 5 since the revision you edited; the current ETag is \"5\". Read the solution again, merge your change into revision 5 and send it with that ETag.",
                "current_etag": "\"5\"", "current_revision": 5})),
        (status = 428, description = "`If-Match` is missing (or `*`).", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://vov.be/problems/precondition-required", "title": "If-Match is required", "status": 428,
                "detail": "Send `If-Match` with the ETag of the revision you edited (`*` is not enough): co-authors must never overwrite each other's work unseen."})),
    )
)]
#[patch("/v1/solutions/{id}")]
async fn update_solution(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<SolutionPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let current = visible_solution(&state, Some(&access), id).await?;
    if !edits(&access, &current) {
        return Err(ApiError::Forbidden("Only the co-authors (and facilitators) edit a solution.".into()));
    }
    let me = writer(&access, "edit solutions")?;
    if if_match.is_absent() {
        if_match.revision(current.version)?;
    }
    let content = body.0.apply(current.content.clone())?;
    check_references(&state, &access, &content).await?;
    let revision = if_match.revision(current.version)?;
    if content.status == SolutionStatus::Draft && current.is_published() {
        return Err(ApiError::conflict(
            "The status cannot change: a published solution stays published.",
            Some("/status"),
        ));
    }
    if content == current.content {
        return Ok(tagged(actix_web::http::StatusCode::OK, &current));
    }
    let s = state.store.update_solution(id, revision, me, &content).await.map_err(store_error(id))?;
    Ok(tagged(actix_web::http::StatusCode::OK, &s))
}

/// Delete a solution
///
/// Removes a solution with its revisions, endorsements and comments. Co-authors delete a
/// draft; a published solution is the network's memory, so only facilitators delete it
/// (moderation). `If-Match` is honoured when sent.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "delete_solution",
    params(("id" = Uuid, Path, description = "The solution's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "You are not a co-author (or facilitator).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A co-author cannot delete a published solution.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The solution changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/solutions/{id}")]
async fn delete_solution(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let current = visible_solution(&state, Some(&access), id).await?;
    if !edits(&access, &current) {
        return Err(ApiError::Forbidden("Only facilitators delete a published solution.".into()));
    }
    if current.is_published() && !access.is_facilitator() {
        return Err(ApiError::conflict(
            "A published solution is part of the network's memory; ask a facilitator to remove it.",
            None,
        ));
    }
    if_match.check(current.version).map_err(|_| ApiError::StaleRevision { current: current.version })?;
    let expected = (!if_match.is_absent()).then_some(current.version);
    state.store.delete_solution(id, expected).await.map_err(store_error(id))?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a solution's revisions
///
/// Every revision, newest first: who made it, when, what it changed, and the full content
/// as of that revision. Whoever may read the solution.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "list_solution_revisions",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), PageQuery),
    responses((status = 200, description = "A page of revisions, newest first.", body = ListResponse<RevisionView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/solutions/{id}/revisions")]
async fn list_revisions(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
    visible_solution(&state, access.as_ref(), id).await?;
    let request = list_request(&state.cursors, format!("revisions?{id}"), false, query.limit, None, None)?;
    let key = format!("{}&revisions", request.key);
    let before: Option<i64> =
        query.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| state.cursors.decode_value(&key, c)).transpose()?;
    let page = state.store.list_revisions(id, before, request.limit).await?;
    let next_cursor =
        page.items.last().filter(|_| page.next.is_some()).map(|r| state.cursors.encode_value(&key, &r.number));
    let body =
        ListResponse { data: page.items.iter().map(RevisionView::from).collect(), next_cursor: next_cursor.clone() };
    Ok(respond_rendered(&req, &CachedPage { body: serde_json::to_vec(&body).unwrap_or_default().into(), next_cursor }))
}

/// Get one revision of a solution
///
/// The full content of a solution as of revision `number`, who made it and when.
#[utoipa::path(
    tag = "Shared solutions",
    operation_id = "get_solution_revision",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The solution's id"), ("number" = i64, Path, description = "The revision number, from 1", minimum = 1)),
    responses((status = 200, description = "The revision.", body = RevisionView))
)]
#[get("/v1/solutions/{id}/revisions/{number}")]
async fn get_revision(
    caller: MaybeCaller,
    path: web::Path<(Uuid, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, number) = path.into_inner();
    let access = access_of(&caller, &state).await?;
    visible_solution(&state, access.as_ref(), id).await?;
    let r = state.store.get_revision(id, number).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("Solution {id} has no revision {number}.")),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(RevisionView::from(&r)))
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
async fn add_co_author(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<NewCoAuthor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
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
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/solutions/{id}/co-authors/{}", b.person_id)))
        .insert_header((header::ETAG, etag(s.version)))
        .json(SolutionView::from(&s)))
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
async fn get_co_author(
    caller: MaybeCaller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, person) = path.into_inner();
    let access = access_of(&caller, &state).await?;
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
async fn remove_co_author(
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, person) = path.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
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
async fn list_endorsements(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller, &state).await?;
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
async fn get_my_endorsement(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
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
async fn endorse(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<EndorsementBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
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
async fn withdraw_endorsement(caller: Caller, id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let me = writer(&access, "endorse solutions")?;
    visible_solution(&state, Some(&access), id).await?;
    // Withdrawing is idempotent: a retry, or a withdrawal of nothing, answers the same.
    state.store.delete_endorsement(id, me).await?;
    Ok(HttpResponse::NoContent().finish())
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
