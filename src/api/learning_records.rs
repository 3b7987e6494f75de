//! The informal-learning log: learning records a person owns and shares by choice, their
//! summaries, records made from an attended event or a done commitment, and the HR
//! systems' sync (upsert by reference, batches, CSV import).

use actix_web::ResponseError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::events::visible_event;
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::rights::Scope;
use crate::db::events::CreatedSort;
use crate::db::feed::{FeedResource, ResourceType};
use crate::db::learning::{RecordFilter, RecordUpsert, RecordViewer};
use crate::db::refs::{ExternalRef, Upserted};
use crate::db::{Found, StoreError};
use crate::domain::event::{CommitmentStatus, RegistrationStatus};
use crate::domain::learning::{
    ActivityType, LearningContext, LearningRecord, RecordContent, RecordInput, SOURCE_IMPORT, SOURCE_MANUAL, Sharing,
    Skill, Visibility,
};
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, etag, respond_tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, respond_page};
use crate::state::AppState;

/// Most items of a batch, and rows of a CSV import.
pub const BATCH_MAX: usize = 1000;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_record)
        .service(list_records)
        .service(get_record)
        .service(update_record)
        .service(delete_record)
        .service(record_summary)
        .service(record_from_registration)
        .service(record_from_commitment)
        .service(upsert_record_by_ref)
        .service(upsert_records_batch)
        .service(import_records_csv);
}

/// What the owner reflects on: what they learned and what they will do differently.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "learned": "Dat oudere collega's vooral leren door hun ervaring te delen.",
    "will_do_differently": "Ik plan elke maand een leermoment met een ervaren collega."
}))]
pub struct Reflection {
    /// What I learned, up to 5,000 characters.
    #[schema(max_length = 5000)]
    pub learned: Option<String>,
    /// What I will do differently, up to 5,000 characters.
    #[schema(max_length = 5000)]
    pub will_do_differently: Option<String>,
}

/// A learning record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8e01",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "title": "Intervisie over leren op de werkvloer",
    "description": "Drie teamleiders bespraken hoe ze nieuwe collega's inwerken.",
    "reflection": {"learned": "Dat inwerken leren is, ook voor wie inwerkt.", "will_do_differently": "Een buddy voor elke nieuwe collega."},
    "activity_type": "intervision",
    "context": "social",
    "started_on": "2027-02-10",
    "ended_on": null,
    "duration_minutes": 90,
    "skills": [{"label": "feedback geven", "esco_uri": "http://data.europa.eu/esco/skill/1b4a4f6d-4ea7-4a4b-9f5b-3d5f4e8e1c2a"}],
    "themes": ["workplace-learning"],
    "evidence": ["https://intranet.example.be/verslag-intervisie"],
    "event_id": null,
    "commitment_id": null,
    "solution_id": null,
    "source": "manual",
    "external_ref": null,
    "visibility": "organisation",
    "shared_with": ["0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d01"],
    "created_at": "2027-02-10T16:00:00Z",
    "updated_at": "2027-02-10T16:00:00Z",
    "version": 1
}))]
pub struct RecordView {
    pub id: Uuid,
    /// The person whose learning it is: the owner.
    pub person_id: Uuid,
    pub title: String,
    /// What happened (Markdown, stored as given).
    pub description: Option<String>,
    pub reflection: Reflection,
    pub activity_type: ActivityType,
    /// The 70-20-10 context; follows the activity type unless the owner chose it.
    pub context: LearningContext,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub duration_minutes: Option<i64>,
    pub skills: Vec<Skill>,
    /// Theme slugs.
    pub themes: Vec<String>,
    /// Evidence links (http or https).
    pub evidence: Vec<String>,
    /// The event the learning happened at.
    pub event_id: Option<Uuid>,
    /// The commitment this record shows done.
    pub commitment_id: Option<Uuid>,
    /// The shared solution the person applied (counted in its `adoption_count`).
    pub solution_id: Option<Uuid>,
    /// `manual`, `import`, or the name of the system that synced it.
    pub source: String,
    /// The synced record's id in its system.
    pub external_ref: Option<ExternalRef>,
    pub visibility: Visibility,
    /// With `visibility: organisation`: the organisations whose admins read it.
    pub shared_with: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl From<&LearningRecord> for RecordView {
    fn from(r: &LearningRecord) -> Self {
        let c = &r.content;
        Self {
            id: r.id,
            person_id: r.person_id,
            title: c.title.clone(),
            description: c.description.clone(),
            reflection: Reflection { learned: c.learned.clone(), will_do_differently: c.will_do_differently.clone() },
            activity_type: c.activity_type,
            context: c.context,
            started_on: c.started_on,
            ended_on: c.ended_on,
            duration_minutes: c.duration_minutes,
            skills: c.skills.clone(),
            themes: c.themes.clone(),
            evidence: c.evidence.clone(),
            event_id: c.event_id,
            commitment_id: c.commitment_id,
            solution_id: c.solution_id,
            source: r.source.clone(),
            external_ref: r
                .external_ref
                .as_ref()
                .map(|x| ExternalRef { system: x.system.clone(), id: x.external_id.clone() }),
            visibility: r.sharing.visibility,
            shared_with: r.sharing.shared_with.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

impl FeedResource for LearningRecord {
    const TYPE: ResourceType = ResourceType::LearningRecord;

    fn feed_id(&self) -> Uuid {
        self.id
    }

    fn feed_version(&self) -> i64 {
        self.version
    }

    fn feed_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&RecordView::from(self))
    }
}

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
    /// A theme slug.
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

fn no_record(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No learning record with id {id}."))
}

/// Whose records `access` reads besides its own: people read what is shared with the
/// organisations they administer and with the network; facilitators moderate but read
/// private records no more than anyone else; integration clients read what is shared with
/// their organisation, with a learning-records scope.
pub fn viewer_of(access: &Access) -> Option<RecordViewer> {
    match access {
        Access::Facilitator { id } => Some(RecordViewer { me: Some(*id), organisations: vec![], network: true }),
        Access::Person { id, admin_of } => {
            Some(RecordViewer { me: Some(*id), organisations: admin_of.clone(), network: true })
        }
        Access::Client { organisation_id, scopes, .. } => {
            let reads = scopes.contains(&Scope::LearningRecordsRead) || scopes.contains(&Scope::LearningRecordsWrite);
            match organisation_id {
                Some(org) if reads => Some(RecordViewer { me: None, organisations: vec![*org], network: false }),
                _ => None,
            }
        }
    }
}

fn may_read(viewer: &RecordViewer, r: &LearningRecord) -> bool {
    viewer.me == Some(r.person_id)
        || (r.sharing.visibility == Visibility::Network && viewer.network)
        || (r.sharing.visibility == Visibility::Organisation
            && r.sharing.shared_with.iter().any(|o| viewer.organisations.contains(o)))
}

async fn readable(state: &AppState, access: &Access, id: Uuid) -> Result<LearningRecord> {
    let r = state.store.get_record(id).await.map_err(|e| match e {
        StoreError::NotFound => no_record(id),
        other => other.into(),
    })?;
    match viewer_of(access) {
        Some(v) if may_read(&v, &r) => Ok(r),
        _ => Err(no_record(id)),
    }
}

/// Checks what a record names against the database: themes exist, the event is one the
/// owner may see, the commitment is the owner's, the organisations are the owner's own.
async fn check_references(
    state: &AppState,
    access: &Access,
    owner: Uuid,
    content: &RecordContent,
    sharing: &Sharing,
) -> Result<()> {
    let missing = state.store.missing_theme_slugs(&content.themes).await?;
    if let Some(slug) = missing.first() {
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{slug}`."),
            pointer: "/themes".into(),
        });
    }
    if let Some(event) = content.event_id {
        visible_event(state, Some(access), event).await.map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::MissingReference { detail: format!("No event with id {event}."), pointer: "/event_id".into() }
            }
            other => other,
        })?;
    }
    if let Some(c) = content.commitment_id {
        let mine = state.store.get_commitment(c).await.found()?.filter(|c| c.person_id == owner);
        if mine.is_none() {
            return Err(ApiError::MissingReference {
                detail: format!("No commitment of yours with id {c}."),
                pointer: "/commitment_id".into(),
            });
        }
    }
    if let Some(s) = content.solution_id {
        let readable = state.store.get_solution(s).await.found()?.filter(|s| s.is_published() || s.is_co_author(owner));
        if readable.is_none() {
            return Err(ApiError::MissingReference {
                detail: format!("No solution with id {s}."),
                pointer: "/solution_id".into(),
            });
        }
    }
    if !sharing.shared_with.is_empty() {
        let mine = state.store.affiliations(&[owner], state.today()).await?;
        let errors: Vec<FieldError> = sharing
            .shared_with
            .iter()
            .enumerate()
            .filter(|(_, o)| !mine.iter().any(|(_, m, _)| m == *o))
            .map(|(i, _)| FieldError::new(format!("/shared_with/{i}"), "must be an organisation you belong to"))
            .collect();
        if !errors.is_empty() {
            return Err(Invalid { errors }.into());
        }
    }
    Ok(())
}

fn input_of(b: NewRecord) -> (RecordInput, Option<Visibility>, Vec<Uuid>) {
    (
        RecordInput {
            title: b.title,
            description: b.description,
            learned: b.reflection.learned,
            will_do_differently: b.reflection.will_do_differently,
            activity_type: b.activity_type,
            context: b.context,
            started_on: b.started_on,
            ended_on: b.ended_on,
            duration_minutes: b.duration_minutes,
            skills: b.skills,
            themes: b.themes,
            evidence: b.evidence,
            event_id: b.event_id,
            commitment_id: b.commitment_id,
            solution_id: b.solution_id,
        },
        b.visibility,
        b.shared_with,
    )
}

fn created(r: &LearningRecord) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/learning-records/{}", r.id)))
        .insert_header((header::ETAG, etag(r.version)))
        .json(RecordView::from(r))
}

fn person_only(access: &Access) -> Result<Uuid> {
    access.person_id().ok_or_else(|| {
        ApiError::Forbidden("Only people keep a learning log; integration clients sync by reference.".into())
    })
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
async fn create_record(caller: Caller, body: Json<NewRecord>, state: web::Data<AppState>) -> Result<HttpResponse> {
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let me = person_only(&access)?;
    let (input, visibility, shared_with) = input_of(body.0);
    let content = RecordContent::parse(input, "");
    let sharing = Sharing::parse(visibility.unwrap_or(Visibility::Private), shared_with, "");
    let (content, sharing) = merge_invalid(content, sharing)?;
    check_references(&state, &access, me, &content, &sharing).await?;
    let at = crate::db::now();
    let record = LearningRecord {
        id: Uuid::now_v7(),
        person_id: me,
        content,
        sharing,
        source: SOURCE_MANUAL.into(),
        external_ref: None,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    state.store.create_record(&record, None).await?;
    Ok(created(&record))
}

fn merge_invalid<A, B>(
    a: std::result::Result<A, Invalid>,
    b: std::result::Result<B, Invalid>,
) -> std::result::Result<(A, B), Invalid> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut errors = a.err().map(|e| e.errors).unwrap_or_default();
            errors.extend(b.err().map(|e| e.errors).unwrap_or_default());
            Err(Invalid { errors })
        }
    }
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
async fn list_records(
    req: HttpRequest,
    caller: Caller,
    query: web::Query<RecordListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
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
async fn get_record(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let r = readable(&state, &access, id.into_inner()).await?;
    Ok(respond_tagged(&req, r.version, &RecordView::from(&r)))
}

fn required<T>(inv: &mut Invalid, pointer: &str, value: Option<Option<T>>, current: T) -> T {
    match value {
        Some(Some(v)) => v,
        Some(None) => {
            inv.errors.push(FieldError::new(pointer, "is required and cannot be removed (null)"));
            current
        }
        None => current,
    }
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
async fn update_record(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<RecordPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let current = readable(&state, &access, id).await?;
    if access.person_id() != Some(current.person_id) {
        return Err(ApiError::Forbidden("Only the owner changes a learning record.".into()));
    }
    let p = body.0;
    let mut input = current.content.to_input();
    let mut inv = Invalid::default();
    input.title = required(&mut inv, "/title", p.title, input.title);
    input.activity_type = required(&mut inv, "/activity_type", p.activity_type, input.activity_type);
    input.started_on = required(&mut inv, "/started_on", p.started_on, input.started_on);
    let visibility = required(&mut inv, "/visibility", p.visibility, current.sharing.visibility);
    inv.finish(|| ())?;
    if let Some(d) = p.description {
        input.description = d;
    }
    if let Some(r) = p.reflection {
        let r = r.unwrap_or_default();
        input.learned = r.learned;
        input.will_do_differently = r.will_do_differently;
    }
    if let Some(c) = p.context {
        input.context = c;
    }
    if let Some(e) = p.ended_on {
        input.ended_on = e;
    }
    if let Some(d) = p.duration_minutes {
        input.duration_minutes = d;
    }
    if let Some(s) = p.skills {
        input.skills = s.unwrap_or_default();
    }
    if let Some(t) = p.themes {
        input.themes = t.unwrap_or_default();
    }
    if let Some(e) = p.evidence {
        input.evidence = e.unwrap_or_default();
    }
    if let Some(e) = p.event_id {
        input.event_id = e;
    }
    if let Some(c) = p.commitment_id {
        input.commitment_id = c;
    }
    if let Some(s) = p.solution_id {
        input.solution_id = s;
    }
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
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(current.version)))
            .json(RecordView::from(&current)));
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
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag(updated.version))).json(RecordView::from(&updated)))
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
async fn delete_record(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let current = readable(&state, &access, id).await?;
    let moderates = access.is_facilitator() && current.sharing.visibility == Visibility::Network;
    if access.person_id() != Some(current.person_id) && !moderates {
        return Err(ApiError::Forbidden("Only the owner deletes a learning record.".into()));
    }
    let expected = if if_match.is_absent() {
        None
    } else {
        if_match.check(current.version)?;
        Some(current.version)
    };
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
    state.store.delete_record(&current, expected, unlinked).await.map_err(|e| match e {
        StoreError::NotFound => no_record(id),
        other => other.into(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}

/// The period of a summary.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// From this day (records that started on or after it).
    #[param(example = "2027-01-01")]
    pub from: Option<NaiveDate>,
    /// To this day (records that started on or before it).
    #[param(example = "2027-12-31")]
    pub to: Option<NaiveDate>,
}

/// Records and time of one group.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"key": "2027-Q1", "records": 9, "minutes": 1200, "hours": 20.0}))]
pub struct SummaryCount {
    /// The group: an activity type, a context, or a quarter such as `2027-Q1`; absent for
    /// the total.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key: Option<String>,
    pub records: i64,
    pub minutes: i64,
    /// `minutes / 60`, rounded to two decimals.
    pub hours: f64,
}

impl SummaryCount {
    fn add(&mut self, records: i64, minutes: i64) {
        self.records += records;
        self.minutes += minutes;
        self.hours = (self.minutes as f64 / 60.0 * 100.0).round() / 100.0;
    }
}

/// A person's learning in numbers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "from": "2027-01-01", "to": "2027-06-30",
    "scope": "own",
    "total": {"records": 14, "minutes": 1830, "hours": 30.5},
    "by_activity_type": [{"key": "on_the_job", "records": 6, "minutes": 900, "hours": 15.0}, {"key": "intervision", "records": 8, "minutes": 930, "hours": 15.5}],
    "by_context": [{"key": "experiential", "records": 6, "minutes": 900, "hours": 15.0}, {"key": "social", "records": 8, "minutes": 930, "hours": 15.5}],
    "by_quarter": [{"key": "2027-Q1", "records": 9, "minutes": 1200, "hours": 20.0}, {"key": "2027-Q2", "records": 5, "minutes": 630, "hours": 10.5}]
}))]
pub struct SummaryView {
    pub person_id: Uuid,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `own`: every record of the person (their own summary); `shared`: only the records
    /// shared with the organisations the caller reads for.
    pub scope: String,
    pub total: SummaryCount,
    /// In the order of the activity types; only types with records.
    pub by_activity_type: Vec<SummaryCount>,
    /// experiential, social, formal; only contexts with records.
    pub by_context: Vec<SummaryCount>,
    /// Calendar quarters of the start dates, in order.
    pub by_quarter: Vec<SummaryCount>,
}

fn grouped(groups: std::collections::BTreeMap<String, SummaryCount>) -> Vec<SummaryCount> {
    groups.into_iter().map(|(key, c)| SummaryCount { key: Some(key), ..c }).collect()
}

/// A person's learning summary
///
/// Hours and number of records by activity type, by 70-20-10 context and by quarter, for a
/// date range. The person sees everything of theirs; an organisation's admin (or its
/// client with a learning-records scope) sees the sum over the records the person shared
/// with that organisation. Anyone else: 404.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "learning_summary",
    params(("id" = Uuid, Path, description = "The person's id"), SummaryQuery),
    responses(
        (status = 200, description = "The summary.", body = SummaryView),
        (status = 404, description = "No such person, or one whose records you do not read.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/people/{id}/learning-summary")]
async fn record_summary(
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<SummaryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let person = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let q = query.into_inner();
    let no_person = || ApiError::not_found(format!("No person with id {person} whose learning you may read."));
    let own = access.person_id() == Some(person);
    let organisations = match viewer_of(&access) {
        _ if own => None,
        Some(v) if !v.organisations.is_empty() => {
            // Only members of those organisations: a guessed id of someone else is a 404.
            let theirs = state.store.memberships_of_people(&[person]).await?;
            let shared: Vec<Uuid> =
                v.organisations.iter().copied().filter(|o| theirs.iter().any(|(_, t)| t == o)).collect();
            if shared.is_empty() {
                return Err(no_person());
            }
            Some(shared)
        }
        _ => return Err(no_person()),
    };
    let rows = state.store.record_summary(person, organisations.as_deref(), q.from, q.to).await?;
    let mut total = SummaryCount::default();
    let mut by_type = std::collections::BTreeMap::<usize, (ActivityType, SummaryCount)>::new();
    let mut by_context = std::collections::BTreeMap::<usize, (LearningContext, SummaryCount)>::new();
    let mut by_quarter = std::collections::BTreeMap::<String, SummaryCount>::new();
    for r in rows {
        total.add(r.records, r.minutes);
        let t = ActivityType::ALL.iter().position(|a| *a == r.activity_type).unwrap_or(usize::MAX);
        by_type.entry(t).or_insert((r.activity_type, SummaryCount::default())).1.add(r.records, r.minutes);
        let c = LearningContext::ALL.iter().position(|a| *a == r.context).unwrap_or(usize::MAX);
        by_context.entry(c).or_insert((r.context, SummaryCount::default())).1.add(r.records, r.minutes);
        by_quarter.entry(r.quarter).or_default().add(r.records, r.minutes);
    }
    Ok(HttpResponse::Ok().json(SummaryView {
        person_id: person,
        from: q.from,
        to: q.to,
        scope: if own { "own" } else { "shared" }.into(),
        total,
        by_activity_type: by_type
            .into_values()
            .map(|(t, c)| SummaryCount { key: Some(t.as_str().into()), ..c })
            .collect(),
        by_context: by_context.into_values().map(|(t, c)| SummaryCount { key: Some(t.as_str().into()), ..c }).collect(),
        by_quarter: grouped(by_quarter),
    }))
}

/// How a record made from an event or a commitment is shared, and what the owner adds.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reflection": {"learned": "Hoe een leernetwerk werkt."}, "visibility": "network"}))]
pub struct RecordFrom {
    #[serde(default)]
    pub reflection: Reflection,
    /// Default `private`.
    pub visibility: Option<Visibility>,
    /// With `visibility: organisation`: organisations you belong to.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub shared_with: Vec<Uuid>,
}

async fn record_from(
    state: &AppState,
    access: &Access,
    owner: Uuid,
    input: RecordInput,
    extra: RecordFrom,
    done: Option<&crate::domain::event::Commitment>,
) -> Result<HttpResponse> {
    let input = RecordInput {
        learned: extra.reflection.learned,
        will_do_differently: extra.reflection.will_do_differently,
        ..input
    };
    let (content, sharing) = merge_invalid(
        RecordContent::parse(input, ""),
        Sharing::parse(extra.visibility.unwrap_or(Visibility::Private), extra.shared_with, ""),
    )?;
    check_references(state, access, owner, &content, &sharing).await?;
    let at = crate::db::now();
    let record = LearningRecord {
        id: Uuid::now_v7(),
        person_id: owner,
        content,
        sharing,
        source: SOURCE_MANUAL.into(),
        external_ref: None,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    state.store.create_record(&record, done).await?;
    Ok(created(&record))
}

/// Turn an attended event into a learning record
///
/// One call makes a record of an event you attended (checked in), pre-filled from the event
/// (title, summary, date, duration, themes; activity type `event`) and linked to it. Add
/// your reflection and choose whom to share it with; change the rest afterwards. A second
/// record of the same registration is refused with 409 and the first one's `Location`.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "learning_record_from_registration",
    params(("id" = Uuid, Path, description = "Your registration's id")),
    request_body = RecordFrom,
    responses(
        (status = 201, description = "Recorded.", body = RecordView,
            headers(("Location" = String, description = "The record's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Not your registration.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You did not attend (yet), or a record of this event exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/registrations/{id}/learning-record")]
async fn record_from_registration(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<RecordFrom>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let me = person_only(&access)?;
    let no_registration = || ApiError::not_found(format!("No registration of yours with id {id}."));
    let reg = state.store.get_registration(id).await.map_err(|e| match e {
        StoreError::NotFound => no_registration(),
        other => other.into(),
    })?;
    if reg.person_id != me {
        return Err(no_registration());
    }
    if reg.status != RegistrationStatus::Attended {
        return Err(ApiError::conflict(
            format!(
                "Only attendance makes a learning record: this registration is `{}`; the organiser checks you in.",
                reg.status.as_str()
            ),
            None,
        ));
    }
    let event = state.store.get_event(reg.event_id).await?;
    if let Some(existing) = state.store.record_of_event(me, event.id).await? {
        return Ok(already(existing, "a learning record of this event exists"));
    }
    let tz: chrono_tz::Tz = event.content.time_zone.parse().unwrap_or(chrono_tz::Europe::Brussels);
    let starts = event.content.starts_at.with_timezone(&tz).date_naive();
    let ends = event.content.ends_at.with_timezone(&tz).date_naive();
    let minutes = (event.content.ends_at - event.content.starts_at).num_minutes();
    let input = RecordInput {
        title: event.content.title.clone(),
        description: event.content.summary.clone(),
        activity_type: ActivityType::Event,
        started_on: starts,
        ended_on: (ends > starts).then_some(ends),
        duration_minutes: (minutes > 0).then_some(minutes.min(crate::domain::learning::DURATION_MAX)),
        themes: event.content.themes.clone(),
        event_id: Some(event.id),
        ..Default::default()
    };
    record_from(&state, &access, me, input, body.0, None).await
}

fn already(existing: Uuid, what: &str) -> HttpResponse {
    let mut res = ApiError::conflict(format!("{what}: /v1/learning-records/{existing}."), None).error_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/v1/learning-records/{existing}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Turn a done commitment into a learning record
///
/// One call makes a record that shows your done commitment, pre-filled (its text, theme
/// and event; activity type `on_the_job`, dated today) and linked both ways: the
/// commitment's `learning_record_id` names the new record. Add your reflection and choose
/// whom to share it with. A commitment that has a record already answers 409 with its
/// `Location`.
#[utoipa::path(
    tag = "Informal learning",
    operation_id = "learning_record_from_commitment",
    params(("id" = Uuid, Path, description = "Your commitment's id")),
    request_body = RecordFrom,
    responses(
        (status = 201, description = "Recorded and linked.", body = RecordView,
            headers(("Location" = String, description = "The record's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 409, description = "The commitment is not done, or has a record already.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/commitments/{id}/learning-record")]
async fn record_from_commitment(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<RecordFrom>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::resolve(&caller, &state.store, state.today()).await?;
    let me = person_only(&access)?;
    let no_commitment = || ApiError::not_found(format!("No commitment of yours with id {id}."));
    let c = state.store.get_commitment(id).await.map_err(|e| match e {
        StoreError::NotFound => no_commitment(),
        other => other.into(),
    })?;
    if c.person_id != me {
        return Err(no_commitment());
    }
    if let Some(existing) = c.learning_record_id {
        return Ok(already(existing, "this commitment has a learning record"));
    }
    if c.content.status != CommitmentStatus::Done {
        return Err(ApiError::conflict(
            format!("Only a done commitment makes a learning record; this one is `{}`.", c.content.status.as_str()),
            None,
        ));
    }
    let title: String = c.content.text.lines().next().unwrap_or_default().chars().take(200).collect();
    let input = RecordInput {
        title,
        description: Some(c.content.text.clone()),
        activity_type: ActivityType::OnTheJob,
        started_on: state.today(),
        themes: c.content.theme.iter().cloned().collect(),
        event_id: Some(c.event_id),
        commitment_id: Some(c.id),
        ..Default::default()
    };
    let extra = body.0;
    let (content, sharing) = merge_invalid(
        RecordContent::parse(
            RecordInput {
                learned: extra.reflection.learned.clone(),
                will_do_differently: extra.reflection.will_do_differently.clone(),
                ..input
            },
            "",
        ),
        Sharing::parse(extra.visibility.unwrap_or(Visibility::Private), extra.shared_with.clone(), ""),
    )?;
    check_references(&state, &access, me, &content, &sharing).await?;
    let at = crate::db::now();
    let record = LearningRecord {
        id: Uuid::now_v7(),
        person_id: me,
        content,
        sharing,
        source: SOURCE_MANUAL.into(),
        external_ref: None,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let linked = crate::domain::event::Commitment {
        learning_record_id: Some(record.id),
        updated_at: at,
        version: c.version + 1,
        ..c.clone()
    };
    state.store.create_record(&record, Some(&linked)).await?;
    Ok(created(&record))
}

// ---- sync ----

/// A record as an HR system sends it (no sharing: the person decides that).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_id": "LR-2027-00017",
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "title": "Jobrotatie naar de planningsdienst",
    "activity_type": "job_rotation",
    "started_on": "2027-03-01",
    "ended_on": "2027-03-31",
    "duration_minutes": 4800,
    "skills": [{"label": "plannen"}]
}))]
pub struct RecordItem {
    /// The record's id in your system (1 to 200 characters, no `/`).
    pub external_id: String,
    /// The member of your organisation whose learning it is.
    pub person_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[serde(default)]
    pub reflection: Reflection,
    pub activity_type: ActivityType,
    pub context: Option<LearningContext>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    #[schema(minimum = 1, maximum = 525600)]
    pub duration_minutes: Option<i64>,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub skills: Vec<Skill>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub evidence: Vec<String>,
}

/// The same, for the upsert of one record by reference (the path names the reference).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
    "title": "Jobrotatie naar de planningsdienst",
    "activity_type": "job_rotation",
    "started_on": "2027-03-01",
    "duration_minutes": 4800
}))]
pub struct RecordByRef {
    pub person_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[serde(default)]
    pub reflection: Reflection,
    pub activity_type: ActivityType,
    pub context: Option<LearningContext>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    #[schema(minimum = 1, maximum = 525600)]
    pub duration_minutes: Option<i64>,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub skills: Vec<Skill>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub evidence: Vec<String>,
}

impl RecordItem {
    fn into_input(self) -> (String, Uuid, RecordInput) {
        (
            self.external_id,
            self.person_id,
            RecordInput {
                title: self.title,
                description: self.description,
                learned: self.reflection.learned,
                will_do_differently: self.reflection.will_do_differently,
                activity_type: self.activity_type,
                context: self.context,
                started_on: self.started_on,
                ended_on: self.ended_on,
                duration_minutes: self.duration_minutes,
                skills: self.skills,
                themes: self.themes,
                evidence: self.evidence,
                event_id: None,
                commitment_id: None,
                solution_id: None,
            },
        )
    }
}

/// Up to 1,000 records of one system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "sdworx", "items": [
    {"external_id": "LR-2027-00017", "person_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41",
     "title": "Jobrotatie naar de planningsdienst", "activity_type": "job_rotation",
     "started_on": "2027-03-01", "ended_on": "2027-03-31", "duration_minutes": 4800}
]}))]
pub struct RecordBatch {
    /// Your system's name (`sdworx`): the records' `source`, and the scope of their ids.
    #[schema(example = "sdworx", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub system: String,
    /// Up to 1,000 items, each checked on its own.
    #[schema(value_type = Vec<RecordItem>, max_items = 1000)]
    pub items: Vec<Box<serde_json::value::RawValue>>,
}

/// What happened to one item (or CSV row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordItemResult {
    Created,
    Updated,
    Unchanged,
    /// Refused; `problem` says why. The other items were processed.
    Error,
}

/// The result of one item, in request order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"index": 0, "external_id": "LR-2027-00017", "result": "created",
    "record_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8e01", "version": 1}))]
pub struct RecordResult {
    /// The item's place in `items` (batch), counted from 0.
    pub index: usize,
    /// For a CSV import: the row's line number (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub row: Option<usize>,
    pub external_id: Option<String>,
    pub result: RecordItemResult,
    pub record_id: Option<Uuid>,
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<Problem>,
}

/// One result per item.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"results": [
    {"index": 0, "external_id": "LR-2027-00017", "result": "created", "record_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8e01", "version": 1},
    {"index": 1, "external_id": "LR-2027-00018", "result": "error", "record_id": null, "version": null,
     "problem": {"type": "https://vov.be/problems/validation", "title": "Your request is not valid", "status": 422,
                 "detail": "Item 1 is not valid; see `errors`.",
                 "errors": [{"pointer": "/items/1/started_on", "detail": "must be in the years 2000 to 2100"}]}}
]}))]
pub struct RecordBatchResponse {
    pub results: Vec<RecordResult>,
}

/// Who may sync an organisation's records: its clients with `learning-records:write`, and
/// its admins (HR administrators importing a spreadsheet).
async fn sync_access(caller: &Caller, state: &AppState, organisation: Uuid) -> Result<Access> {
    let access = Access::resolve(caller, &state.store, state.today()).await?;
    let allowed = match &access {
        Access::Client { organisation_id, scopes, .. } => {
            *organisation_id == Some(organisation) && scopes.contains(&Scope::LearningRecordsWrite)
        }
        Access::Person { admin_of, .. } => admin_of.contains(&organisation),
        Access::Facilitator { .. } => false,
    };
    if !allowed {
        let exists = state.store.missing_organisations(&[organisation]).await?.is_empty();
        if !exists {
            return Err(ApiError::not_found(format!("No organisation with id {organisation}.")));
        }
        return Err(ApiError::Forbidden(
            "This needs `learning-records:write` for this organisation, or being its admin.".into(),
        ));
    }
    Ok(access)
}

fn item_problem(detail: String, errors: Vec<FieldError>) -> Problem {
    let mut problem = ApiError::Invalid(Invalid { errors }).problem();
    problem.detail = detail;
    problem
}

fn refused(index: usize, row: Option<usize>, external_id: Option<String>, problem: Problem) -> RecordResult {
    RecordResult {
        index,
        row,
        external_id,
        result: RecordItemResult::Error,
        record_id: None,
        version: None,
        problem: Some(problem),
    }
}

/// One item or row as parsed: its place, and its content or why it could not be read.
struct Parsed {
    index: usize,
    /// The CSV line number.
    row: Option<usize>,
    /// The item's `external_id`, when it had one, also when it did not parse.
    external_id: Option<String>,
    item: std::result::Result<(String, Uuid, RecordInput), Problem>,
}

/// Validates parsed items and applies the valid ones; `prefixes` name each item in
/// problems (`/items/3` or `/rows/3`).
async fn apply_items(
    state: &AppState,
    organisation: Uuid,
    system: &str,
    source: &str,
    parsed: Vec<Parsed>,
    prefix: &str,
) -> Result<Vec<RecordResult>> {
    let mut results: Vec<Option<RecordResult>> = Vec::with_capacity(parsed.len());
    let rows: Vec<Option<usize>> = parsed.iter().map(|p| p.row).collect();
    let mut valid: Vec<(usize, RecordUpsert)> = Vec::new();
    let people: Vec<Uuid> = parsed.iter().filter_map(|p| p.item.as_ref().ok().map(|(_, person, _)| *person)).collect();
    let members = state.store.members_among(organisation, &people, state.today()).await?;
    let mut slugs: Vec<String> = Vec::new();
    for p in &parsed {
        if let Ok((_, _, input)) = &p.item {
            for t in &input.themes {
                if !slugs.contains(t) {
                    slugs.push(t.clone());
                }
            }
        }
    }
    let missing_themes = state.store.missing_theme_slugs(&slugs).await?;
    for Parsed { index, row, external_id: hint, item: p } in parsed {
        let at = match row {
            Some(r) => format!("{prefix}/{r}"),
            None => format!("{prefix}/{index}"),
        };
        let what = match row {
            Some(r) => format!("Row {r}"),
            None => format!("Item {index}"),
        };
        let (external_id, person, input) = match p {
            Ok(x) => x,
            Err(problem) => {
                results.push(Some(refused(index, row, hint, problem)));
                continue;
            }
        };
        let mut inv = Invalid::default();
        if let Err(e) = ExternalRef::parse(system, &external_id, "") {
            inv.errors.extend(e.errors.into_iter().map(|f| FieldError::new(format!("{at}/external_id"), f.detail)));
        }
        if !members.contains(&person) {
            inv.errors.push(FieldError::new(format!("{at}/person_id"), "is not a current member of this organisation"));
        }
        if let Some(t) = input.themes.iter().find(|t| missing_themes.contains(t)) {
            inv.errors.push(FieldError::new(format!("{at}/themes"), format!("no theme with slug `{t}`")));
        }
        match RecordContent::parse(input, &at) {
            Ok(content) if inv.errors.is_empty() => {
                valid.push((index, RecordUpsert { external_id, person_id: person, content }));
                results.push(None);
            }
            Ok(_) => results.push(Some(refused(
                index,
                row,
                Some(external_id),
                item_problem(format!("{what} is not valid; see `errors`."), inv.errors),
            ))),
            Err(e) => {
                inv.errors.extend(e.errors);
                results.push(Some(refused(
                    index,
                    row,
                    Some(external_id),
                    item_problem(format!("{what} is not valid; see `errors`."), inv.errors),
                )));
            }
        }
    }
    let (indices, items): (Vec<usize>, Vec<RecordUpsert>) = valid.into_iter().unzip();
    let outcomes = state.store.upsert_records(organisation, system, source, &items).await?;
    for ((index, item), outcome) in indices.into_iter().zip(items).zip(outcomes) {
        let row = rows[index];
        let at = match row {
            Some(r) => format!("{prefix}/{r}"),
            None => format!("{prefix}/{index}"),
        };
        results[index] = Some(match outcome {
            Ok(o) => RecordResult {
                index,
                row,
                external_id: Some(item.external_id),
                result: match o.result {
                    Upserted::Created => RecordItemResult::Created,
                    Upserted::Updated => RecordItemResult::Updated,
                    Upserted::Unchanged => RecordItemResult::Unchanged,
                },
                record_id: Some(o.id),
                version: Some(o.version),
                problem: None,
            },
            Err(conflict) => {
                let mut problem = ApiError::conflict(conflict.detail.clone(), None).problem();
                problem.errors = vec![FieldError::new(format!("{at}{}", conflict.pointer), conflict.detail)];
                refused(index, row, Some(item.external_id), problem)
            }
        });
    }
    Ok(results.into_iter().map(|r| r.expect("every item has a result")).collect())
}

fn parse_system(system: &str, pointer: &str) -> Result<String> {
    Ok(ExternalRef::parse(system, "x", "")
        .map_err(|_| Invalid::one(pointer, "must be 1 to 64 letters, digits, `.`, `_` or `-`"))?
        .system)
}

/// Create or update a learning record by your system's id
///
/// For HR systems: an integration client with `learning-records:write` (or an admin of the
/// organisation) creates the record of a member of the organisation named by
/// `(system, external_id)`, or updates it. A new record is private: the person decides
/// whom to share it with, and may delete it (a later sync then answers 409 for that id
/// instead of bringing it back). Updates change the content, never the sharing.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_learning_record_by_ref",
    params(
        ("id" = Uuid, Path, description = "The organisation's id"),
        ("system" = String, Path, description = "Your system's name", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
        ("external_id" = String, Path, description = "The record's id in your system", pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$"),
    ),
    request_body = RecordByRef,
    responses(
        (status = 200, description = "Updated or unchanged (see `result`).", body = RecordResult),
        (status = 201, description = "Created.", body = RecordResult, headers(("Location" = String, description = "The record's URL"))),
        (status = 403, description = "Only the organisation's clients with `learning-records:write` and its admins.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id names another person's record, or one its person deleted.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/{id}/learning-records/by-ref/{system}/{external_id}")]
async fn upsert_record_by_ref(
    caller: Caller,
    path: web::Path<(Uuid, String, String)>,
    body: Json<RecordByRef>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, system, external_id) = path.into_inner();
    sync_access(&caller, &state, organisation).await?;
    let system = parse_system(&system, "#/path/system")?;
    ExternalRef::parse(&system, &external_id, "").map_err(|_| {
        Invalid::one("#/path/external_id", "must be 1 to 200 characters without `/` or control characters")
    })?;
    let b = body.0;
    let item = RecordItem {
        external_id,
        person_id: b.person_id,
        title: b.title,
        description: b.description,
        reflection: b.reflection,
        activity_type: b.activity_type,
        context: b.context,
        started_on: b.started_on,
        ended_on: b.ended_on,
        duration_minutes: b.duration_minutes,
        skills: b.skills,
        themes: b.themes,
        evidence: b.evidence,
    };
    let mut results = apply_items(
        &state,
        organisation,
        &system,
        &system,
        vec![Parsed { index: 0, row: None, external_id: None, item: Ok(item.into_input()) }],
        "",
    )
    .await?;
    let result = results.pop().expect("one result");
    match result.problem {
        Some(problem) => {
            // One item: its problem, with pointers into this body.
            let errors: Vec<FieldError> = problem
                .errors
                .iter()
                .map(|e| {
                    FieldError::new(e.pointer.strip_prefix("/0").unwrap_or(&e.pointer).to_string(), e.detail.clone())
                })
                .collect();
            if problem.status == 409 {
                Err(ApiError::conflict(problem.detail, errors.first().map(|e| e.pointer.as_str())))
            } else if errors.iter().any(|e| e.pointer == "/person_id") && errors.len() == 1 {
                Err(ApiError::MissingReference {
                    detail: "No member of this organisation with that id.".into(),
                    pointer: "/person_id".into(),
                })
            } else {
                Err(Invalid { errors }.into())
            }
        }
        None if result.result == RecordItemResult::Created => {
            let location = format!("/v1/learning-records/{}", result.record_id.unwrap_or_default());
            Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(result))
        }
        None => Ok(HttpResponse::Ok().json(result)),
    }
}

/// Create or update up to 1,000 learning records by your system's ids
///
/// The batch form of `PUT .../learning-records/by-ref/{system}/{external_id}`: one result
/// per item, in request order (`created`, `updated`, `unchanged`, or `error` with a
/// problem whose pointers lead into the request body: 422 for an invalid item, 409 for a
/// clash). A refused item never stops the others. Send an `Idempotency-Key` so that a
/// retried batch is not applied twice.
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_learning_records_batch",
    params(("id" = Uuid, Path, description = "The organisation's id")),
    request_body = RecordBatch,
    responses(
        (status = 200, description = "One result per item.", body = RecordBatchResponse),
        (status = 403, description = "Only the organisation's clients with `learning-records:write` and its admins.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/learning-records/batch")]
async fn upsert_records_batch(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<RecordBatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let organisation = id.into_inner();
    sync_access(&caller, &state, organisation).await?;
    let body = body.0;
    if body.items.len() > BATCH_MAX {
        return Err(Invalid::one("/items", format!("at most {BATCH_MAX} items per request")).into());
    }
    let system = parse_system(&body.system, "/system")?;
    let parsed = body
        .items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let item = serde_json::from_str::<RecordItem>(raw.get()).map(RecordItem::into_input);
            // Only a refused item needs its `external_id` read on its own.
            let external_id = match &item {
                Ok(_) => None,
                Err(_) => serde_json::from_str::<IdOnly>(raw.get()).ok().and_then(|i| i.external_id),
            };
            let item = item.map_err(|e| {
                item_problem(
                    format!("Item {index} is not valid; see `errors`."),
                    vec![FieldError::new(format!("/items/{index}"), e.to_string())],
                )
            });
            Parsed { index, row: None, external_id, item }
        })
        .collect();
    let results = apply_items(&state, organisation, &system, &system, parsed, "/items").await?;
    Ok(HttpResponse::Ok().json(RecordBatchResponse { results }))
}

/// The `external_id` of an item that did not parse as a whole.
#[derive(Deserialize)]
struct IdOnly {
    external_id: Option<String>,
}

/// The system of a CSV import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The name the rows' `external_id`s belong to (default `import`).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "hr-spreadsheet")]
    pub system: Option<String>,
}

const CSV_COLUMNS: &[&str] = &[
    "external_id",
    "person_id",
    "title",
    "description",
    "learned",
    "will_do_differently",
    "activity_type",
    "context",
    "started_on",
    "ended_on",
    "duration_minutes",
    "skills",
    "themes",
    "evidence",
];

#[allow(clippy::result_large_err)] // a row's problem, built once per bad row
fn csv_row(
    index: usize,
    line: usize,
    header: &[String],
    record: &csv::StringRecord,
) -> std::result::Result<(String, Uuid, RecordInput), Problem> {
    let mut errors = Vec::new();
    let get = |name: &str| -> Option<String> {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let at = |name: &str| format!("/rows/{line}/{name}");
    let list = |name: &str| -> Vec<String> {
        get(name)
            .map(|v| v.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    };
    let external_id = get("external_id").unwrap_or_default();
    if external_id.is_empty() {
        errors.push(FieldError::new(
            at("external_id"),
            "is required: the row's id, so that importing the file again updates instead of duplicating",
        ));
    }
    let person = match get("person_id").map(|p| Uuid::parse_str(&p)) {
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            errors.push(FieldError::new(at("person_id"), "must be a UUID"));
            None
        }
        None => {
            errors.push(FieldError::new(at("person_id"), "is required"));
            None
        }
    };
    let activity_type = match get("activity_type") {
        Some(t) => ActivityType::parse(&t).or_else(|| {
            errors.push(FieldError::new(at("activity_type"), format!("`{t}` is not an activity type")));
            None
        }),
        None => {
            errors.push(FieldError::new(at("activity_type"), "is required"));
            None
        }
    };
    let context = get("context").and_then(|c| {
        LearningContext::parse(&c).or_else(|| {
            errors.push(FieldError::new(at("context"), format!("`{c}` is not experiential, social or formal")));
            None
        })
    });
    let date = |name: &str, errors: &mut Vec<FieldError>| {
        get(name).and_then(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| errors.push(FieldError::new(at(name), "must be a date, YYYY-MM-DD")))
                .ok()
        })
    };
    let started_on = date("started_on", &mut errors);
    if started_on.is_none() && get("started_on").is_none() {
        errors.push(FieldError::new(at("started_on"), "is required"));
    }
    let ended_on = date("ended_on", &mut errors);
    let duration_minutes = get("duration_minutes").and_then(|d| {
        d.parse::<i64>()
            .map_err(|_| errors.push(FieldError::new(at("duration_minutes"), "must be a whole number of minutes")))
            .ok()
    });
    let title = get("title").unwrap_or_default();
    let skills = list("skills").into_iter().map(|label| Skill { label, esco_uri: None }).collect();
    if !errors.is_empty() {
        return Err(item_problem(format!("Row {line} is not valid; see `errors`."), errors));
    }
    let _ = index;
    Ok((
        external_id,
        person.expect("checked"),
        RecordInput {
            title,
            description: get("description"),
            learned: get("learned"),
            will_do_differently: get("will_do_differently"),
            activity_type: activity_type.expect("checked"),
            context,
            started_on: started_on.expect("checked"),
            ended_on,
            duration_minutes,
            skills,
            themes: list("themes"),
            evidence: list("evidence"),
            event_id: None,
            commitment_id: None,
            solution_id: None,
        },
    ))
}

/// Import learning records from a CSV file
///
/// For HR administrators who keep records in a spreadsheet: `text/csv` (UTF-8, comma
/// separated, a header row naming the columns, up to 1,000 rows). Columns: `external_id`
/// (required: the row's id, so importing the file again updates instead of duplicating),
/// `person_id` (a member of the organisation), `title`, `activity_type`, `started_on`
/// (YYYY-MM-DD) required; `description`, `learned`, `will_do_differently`, `context`,
/// `ended_on`, `duration_minutes`, and `skills`, `themes`, `evidence` as `;`-separated
/// lists optional. One result per row, with its line number (`row`; the header is line 1);
/// a bad row never stops the others. Records are private to their person, with source
/// `import`.
#[utoipa::path(
    tag = "Sync",
    operation_id = "import_learning_records_csv",
    params(("id" = Uuid, Path, description = "The organisation's id"), ImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "external_id,person_id,title,activity_type,started_on,duration_minutes,themes\nR-1,0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d41,Coaching door de teamleider,coaching_mentoring,2027-02-01,60,workplace-learning\n"),
    responses(
        (status = 200, description = "One result per row.", body = RecordBatchResponse),
        (status = 403, description = "Only the organisation's clients with `learning-records:write` and its admins.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `text/csv`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file has no header row, an unknown column, more than 1,000 rows, or is not UTF-8.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations/{id}/learning-records/import")]
async fn import_records_csv(
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let organisation = id.into_inner();
    let csv_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")));
    if !csv_type {
        return Err(ApiError::UnsupportedMediaType("Send the file as `Content-Type: text/csv`.".into()));
    }
    sync_access(&caller, &state, organisation).await?;
    let system = parse_system(query.system.as_deref().unwrap_or(SOURCE_IMPORT), "#/query/system")
        .map_err(|_| ApiError::BadRequest("`system` must be 1 to 64 letters, digits, `.`, `_` or `-`.".into()))?;
    let text = std::str::from_utf8(&body).map_err(|_| Invalid::one("", "the file must be UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Invalid::one("", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !CSV_COLUMNS.contains(&h.as_str())) {
        return Err(Invalid::one(
            "/rows/1",
            format!("unknown column `{unknown}`; the columns are {}", CSV_COLUMNS.join(", ")),
        )
        .into());
    }
    let mut parsed = Vec::new();
    for (index, record) in reader.records().enumerate() {
        if index >= BATCH_MAX {
            return Err(Invalid::one("", format!("at most {BATCH_MAX} rows per request")).into());
        }
        let line = index + 2;
        let item = match record {
            Ok(r) => csv_row(index, line, &header, &r),
            Err(e) => Err(item_problem(
                format!("Row {line} cannot be read."),
                vec![FieldError::new(format!("/rows/{line}"), e.to_string())],
            )),
        };
        parsed.push(Parsed { index, row: Some(line), external_id: None, item });
    }
    if parsed.is_empty() {
        return Err(Invalid::one("", "the file has a header row but no records").into());
    }
    let results = apply_items(&state, organisation, &system, SOURCE_IMPORT, parsed, "/rows").await?;
    Ok(HttpResponse::Ok().json(RecordBatchResponse { results }))
}
