//! Solutions: list, create, read, change, publish, delete, and their revisions.

use super::*;
use crate::domain::validation::{merge, merge_or_default};

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

impl SolutionPatch {
    pub(super) fn apply(self, mut c: SolutionContent) -> std::result::Result<SolutionContent, Invalid> {
        let mut inv = Invalid::default();
        inv.required("/title", self.title, &mut c.title);
        merge(self.summary, &mut c.summary);
        merge(self.body, &mut c.body);
        merge_or_default(self.challenge_ids, &mut c.challenge_ids);
        merge(self.event_id, &mut c.event_id);
        merge_or_default(self.context, &mut c.context);
        if let Some(t) = self.themes {
            c.themes = t.unwrap_or_default().into_iter().map(|t| t.0).collect();
        }
        inv.required("/maturity", self.maturity, &mut c.maturity);
        merge(self.results, &mut c.results);
        inv.required("/status", self.status, &mut c.status);
        if !inv.errors.is_empty() {
            return Err(inv);
        }
        SolutionContent::parse(c)
    }
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
    /// the start of a word; case and accents do not matter (`ontwikkel` finds `Óntwikkeling`). For example `olijfboom loopbaan`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Only those with this theme (slug). For example `older-workers`.
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<String>,
    pub maturity: Option<Maturity>,
    /// A NACE section letter (`Q`) or code prefix (`86`).
    #[param(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub target_group: Option<TargetGroup>,
    /// `draft` lists the drafts you co-author (facilitators: all drafts).
    pub status: Option<SolutionStatus>,
    /// Solutions that answer this challenge (one of `challenge_ids`).
    pub challenge_id: Option<Uuid>,
    /// Solutions co-created at this event (`event_id`).
    pub event_id: Option<Uuid>,
    /// Solutions a co-author wrote for this organisation (a `co_authors[].organisation_id`).
    pub organisation_id: Option<Uuid>,
    /// Solutions this person co-authors (a `co_authors[].person_id`).
    pub co_author_id: Option<Uuid>,
    /// The old name of `challenge_id`.
    #[deprecated = "use `challenge_id`"]
    pub challenge: Option<Uuid>,
    /// The old name of `event_id`.
    #[deprecated = "use `event_id`"]
    pub event: Option<Uuid>,
    /// The old name of `organisation_id`.
    #[deprecated = "use `organisation_id`"]
    pub organisation: Option<Uuid>,
    /// The old name of `co_author_id`.
    #[deprecated = "use `co_author_id`"]
    pub co_author: Option<Uuid>,
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
#[allow(deprecated)] // reads the old filter names too
pub(super) async fn list_solutions(
    req: HttpRequest,
    caller: MaybeCaller,
    query: web::Query<SolutionListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let access = access_of(&caller);
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
        challenge: renamed(query.challenge_id, query.challenge),
        event: renamed(query.event_id, query.event),
        organisation: renamed(query.organisation_id, query.organisation),
        co_author: renamed(query.co_author_id, query.co_author),
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
pub(super) async fn create_solution(
    caller: Caller,
    body: Json<NewSolution>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
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
    Ok(created(format!("/v1/solutions/{}", s.id), s.version, &SolutionView::from(&s)))
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
pub(super) async fn get_solution(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = access_of(&caller);
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
pub(super) async fn update_solution(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<SolutionPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
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
        return Ok(tagged(current.version, &SolutionView::from(&current)));
    }
    let s = state.store.update_solution(id, revision, me, &content).await.map_err(store_error(id))?;
    Ok(tagged(s.version, &SolutionView::from(&s)))
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
pub(super) async fn delete_solution(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
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
pub(super) async fn list_revisions(
    req: HttpRequest,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = access_of(&caller);
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
pub(super) async fn get_revision(
    caller: MaybeCaller,
    path: web::Path<(Uuid, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, number) = path.into_inner();
    let access = access_of(&caller);
    visible_solution(&state, access.as_ref(), id).await?;
    let r = state.store.get_revision(id, number).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("Solution {id} has no revision {number}.")),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(RevisionView::from(&r)))
}
