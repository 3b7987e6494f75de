//! Creating, listing, reading, changing and deleting one's learning records.

use super::*;
use crate::domain::validation::{merge, merge_or_default};

/// A new learning record of your own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Intervisie over leren op de werkvloer",
    "description": "Drie teamleiders bespraken hoe ze nieuwe collega's inwerken.",
    "reflection": {"learned": "Dat inwerken leren is, ook voor wie inwerkt."},
    "activity_type": "intervision",
    "started_on": "2027-02-10",
    "duration_minutes": 90,
    "skills": [{"label": "feedback geven"}],
    "themes": ["workplace-learning"],
    "visibility": "organisation",
    "shared_with": ["0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d01"]
}))]
pub struct NewRecord {
    /// 1 to 200 characters, one line.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
    /// What happened (Markdown), up to 10,000 characters.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[serde(default)]
    pub reflection: Reflection,
    pub activity_type: ActivityType,
    /// Leave out to follow the activity type (on the job, job rotation, volunteering and
    /// other: experiential; peer learning, coaching/mentoring and intervision: social;
    /// self-study, reading, online course and event: formal).
    pub context: Option<LearningContext>,
    /// When it happened (or started), years 2000 to 2100.
    pub started_on: NaiveDate,
    /// When it ended, for a date range; not before `started_on`.
    pub ended_on: Option<NaiveDate>,
    /// 1 to 525,600 minutes.
    #[schema(minimum = 1, maximum = 525600)]
    pub duration_minutes: Option<i64>,
    /// Up to 30 skills.
    #[serde(default)]
    #[schema(max_items = 30)]
    pub skills: Vec<Skill>,
    /// Up to 20 theme slugs.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<String>,
    /// Up to 20 http or https links.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub evidence: Vec<String>,
    /// An event the learning happened at (one you may see).
    pub event_id: Option<Uuid>,
    /// One of your commitments that this record shows.
    pub commitment_id: Option<Uuid>,
    /// A shared solution you applied (a published one, or one you co-author).
    pub solution_id: Option<Uuid>,
    /// Default `private`.
    pub visibility: Option<Visibility>,
    /// With `visibility: organisation`: 1 to 20 organisations you belong to.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub shared_with: Vec<Uuid>,
}

/// Changes to a record, as a JSON Merge Patch (RFC 7396); `null` removes an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"visibility": "network", "shared_with": []}))]
pub struct RecordPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Reflection>)]
    pub reflection: Option<Option<Reflection>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<ActivityType>, nullable = false)]
    pub activity_type: Option<Option<ActivityType>>,
    /// `null`: follow the activity type again.
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<LearningContext>)]
    pub context: Option<Option<LearningContext>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable = false)]
    pub started_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ended_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 525600)]
    pub duration_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<Skill>>, max_items = 30)]
    pub skills: Option<Option<Vec<Skill>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub themes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub evidence: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub event_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub commitment_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub solution_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Visibility>, nullable = false)]
    pub visibility: Option<Option<Visibility>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    pub shared_with: Option<Option<Vec<Uuid>>>,
}

/// Filters and paging of a record list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    /// Only this person's records (those you may read).
    pub person_id: Option<Uuid>,
    pub activity_type: Option<ActivityType>,
    pub context: Option<LearningContext>,
    pub visibility: Option<Visibility>,
    /// A theme slug. For example `workplace-learning`.
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub theme: Option<String>,
    /// Records that started on or after this day.
    pub from: Option<NaiveDate>,
    /// Records that started on or before this day.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

/// Record something you learned
///
/// A new record in your own learning log. Private unless you share it with organisations
/// you belong to (their admins read it) or with the network (every signed-in member reads
/// it). The 70-20-10 context follows the activity type unless you choose it.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "create_learning_record",
    request_body = NewRecord,
    responses(
        (status = 201, description = "Recorded.", body = RecordView,
            headers(("Location" = String, description = "The record's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Integration clients do not keep a learning log.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A theme, event or commitment named does not exist (the pointer says which).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/learning-records")]
pub(super) async fn create_record(
    caller: Caller,
    body: Json<NewRecord>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let me = person_only(&access)?;
    let (input, visibility, shared_with) = input_of(body.0);
    let content = RecordContent::parse(input, "");
    let sharing = Sharing::parse(visibility.unwrap_or(Visibility::Private), shared_with, "");
    let (content, sharing) = merge_invalid(content, sharing)?;
    check_references(&state, &access, me, &content, &sharing).await?;
    let at = crate::db::now();
    let record = LearningRecord::manual(me, content, sharing, at);
    state.store.create_record(&record, None).await?;
    Ok(record_created(&record))
}

/// List learning records
///
/// The records you may read, oldest first: your own, those shared with an organisation you
/// administer, and those shared with the network. Integration clients with
/// `learning-records:read` or `:write` read those shared with their organisation.
/// Facilitators read what members read: private records stay private.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "list_learning_records",
    params(RecordListQuery),
    responses(
        (status = 200, description = "A page of records.", body = ListResponse<RecordView>,
            headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))),
        (status = 403, description = "An integration client without a learning-records scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/learning-records")]
pub(super) async fn list_records(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<RecordListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let viewer = viewer_of(&access)
        .ok_or_else(|| ApiError::Forbidden("This needs the `learning-records:read` scope.".into()))?;
    let q = query.into_inner();
    let theme = q
        .theme
        .map(|t| crate::domain::theme::Slug::parse(&t).map(|s| s.as_str().to_string()))
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("`theme` {e}.")))?;
    let filter = RecordFilter {
        person_id: q.person_id,
        activity_type: q.activity_type,
        context: q.context,
        visibility: q.visibility,
        theme,
        from: q.from,
        to: q.to,
    };
    let page_req = PageRequest::<CreatedSort>::parse(
        &state.cursors,
        format!("learning-records?{filter:?}"),
        q.limit,
        None,
        q.cursor.as_deref(),
    )?;
    let page = state.store.list_records(&filter, Some(&viewer), page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |r| RecordView::from(&r)))
}

/// Get a learning record
///
/// For its owner, the admins (and clients with a learning-records scope) of the
/// organisations it is shared with, and every signed-in member when it is shared with the
/// network. Anyone else gets 404, as for a record that does not exist.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "get_learning_record",
    params(("id" = Uuid, Path, description = "The record's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The record.", body = RecordView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/learning-records/{id}")]
pub(super) async fn get_record(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::of(&caller);
    let r = readable(&state, &access, id.into_inner()).await?;
    Ok(respond_tagged(&req, r.version, &RecordView::from(&r)))
}

/// Update a learning record
///
/// Changes your record with a JSON Merge Patch (RFC 7396), its sharing included. The owner
/// only (also for records an HR system synced). Send `If-Match` with the ETag you read: a
/// stale one answers `412`. Whoever stops being able to read the record gets a tombstone
/// in the change feed.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "update_learning_record",
    params(("id" = Uuid, Path, description = "The record's id"), IfMatch),
    request_body(content = RecordPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = RecordView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only the owner changes a record.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/learning-records/{id}")]
pub(super) async fn update_record(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<RecordPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = readable(&state, &access, id).await?;
    let why = "Only the owner changes a learning record.";
    policy::check(Some(&access), Action::Change, &Object::record(&current), || no_record(id), why)?;
    let p = body.0;
    let mut input = current.content.to_input();
    let mut inv = Invalid::default();
    inv.required("/title", p.title, &mut input.title);
    inv.required("/activity_type", p.activity_type, &mut input.activity_type);
    inv.required("/started_on", p.started_on, &mut input.started_on);
    let mut visibility = current.sharing.visibility;
    inv.required("/visibility", p.visibility, &mut visibility);
    inv.finish(|| ())?;
    merge(p.description, &mut input.description);
    if let Some(r) = p.reflection {
        let r = r.unwrap_or_default();
        input.learned = r.learned;
        input.will_do_differently = r.will_do_differently;
    }
    merge(p.context, &mut input.context);
    merge(p.ended_on, &mut input.ended_on);
    merge(p.duration_minutes, &mut input.duration_minutes);
    merge_or_default(p.skills, &mut input.skills);
    merge_or_default(p.themes, &mut input.themes);
    merge_or_default(p.evidence, &mut input.evidence);
    merge(p.event_id, &mut input.event_id);
    merge(p.commitment_id, &mut input.commitment_id);
    merge(p.solution_id, &mut input.solution_id);
    let shared_with = match p.shared_with {
        Some(s) => s.unwrap_or_default(),
        // Leaving `organisation` drops the organisations without the caller saying so.
        None if visibility != Visibility::Organisation => vec![],
        None => current.sharing.shared_with.clone(),
    };
    let (content, sharing) =
        merge_invalid(RecordContent::parse(input, ""), Sharing::parse(visibility, shared_with, ""))?;
    // A link the record already has stays valid even if its solution is no longer readable
    // to the owner (they left a draft): only a new link is checked.
    let mut to_check = content.clone();
    if to_check.solution_id == current.content.solution_id {
        to_check.solution_id = None;
    }
    check_references(&state, &access, current.person_id, &to_check, &sharing).await?;
    if_match.check(current.version)?;
    if content == current.content && sharing == current.sharing {
        return Ok(tagged(current.version, &RecordView::from(&current)));
    }
    let updated = LearningRecord {
        content,
        sharing,
        updated_at: crate::db::now(),
        version: current.version + 1,
        ..current.clone()
    };
    state.store.update_record(&current, &updated, current.version).await.map_err(|e| match e {
        StoreError::NotFound => no_record(id),
        other => other.into(),
    })?;
    Ok(tagged(updated.version, &RecordView::from(&updated)))
}

/// Delete a learning record
///
/// The owner deletes any record of theirs, synced ones included: an HR system's later sync
/// does not bring it back. Facilitators, moderating, delete records shared with the
/// network. A commitment the record showed loses the link.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "delete_learning_record",
    params(("id" = Uuid, Path, description = "The record's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only the owner deletes a record (facilitators: network-visible ones).", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/learning-records/{id}")]
pub(super) async fn delete_record(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = readable(&state, &access, id).await?;
    let why = "Only the owner deletes a learning record.";
    policy::check(Some(&access), Action::Delete, &Object::record(&current), || no_record(id), why)?;
    let expected = if if_match.is_absent() {
        None
    } else {
        if_match.check(current.version)?;
        Some(current.version)
    };
    remove_record(&state, &current, expected, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes `current` (at `expected`, when given), unlinking the commitments it showed.
/// `retracted`: the HR system that synced it takes it back.
pub(super) async fn remove_record(
    state: &AppState,
    current: &LearningRecord,
    expected: Option<i64>,
    retracted: bool,
) -> Result<()> {
    let id = current.id;
    let mut unlinked = Vec::new();
    for c in state.store.commitments_showing(id).await? {
        let c = state.store.get_commitment(c).await?;
        let next = crate::domain::event::Commitment {
            learning_record_id: None,
            updated_at: crate::db::now(),
            version: c.version + 1,
            ..c
        };
        unlinked.push(next);
    }
    state.store.delete_record(current, expected, unlinked, retracted).await.map_err(|e| match e {
        StoreError::NotFound => no_record(id),
        other => other.into(),
    })?;
    Ok(())
}
