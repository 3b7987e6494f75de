//! The informal-learning log: learning records a person owns and shares by choice, their
//! summaries, records made from an attended event or a done commitment, and the HR
//! systems' sync (upsert by reference, batches, CSV import).

use crate::api::Routes;
use actix_web::ResponseError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::events::visible_event;
use crate::api::organisations::{OrgRefPath, no_ref, read_back};
use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::rights::Scope;
use crate::db::events::CreatedSort;
use crate::db::feed::feed_resource;
use crate::db::learning::{RecordFilter, RecordUpsert};
use crate::db::refs::{ExternalRef, Upserted};
use crate::db::{Found, StoreError};
use crate::domain::event::{CommitmentStatus, RegistrationStatus};
use crate::domain::learning::{
    ActivityType, LearningContext, LearningRecord, RecordContent, RecordInput, SOURCE_IMPORT, Sharing, Skill,
    Visibility,
};
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, respond_page};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

mod crud;
mod from_activity;
mod import;
mod summary;
mod sync;

pub use crud::*;
pub use from_activity::*;
pub use import::*;
pub use summary::*;
pub use sync::*;

/// Most items of a batch, and rows of a CSV import.
pub const BATCH_MAX: usize = 1000;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(create_record)
        .service(list_records)
        .service(get_record)
        .service(update_record)
        .service(delete_record)
        .service(record_summary)
        .service(record_from_registration)
        .service(record_from_commitment)
        .service(upsert_record_by_ref)
        .service(get_record_by_ref)
        .service(retract_record_by_ref)
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

feed_resource!(LearningRecord, LearningRecord, |r| RecordView::from(r));

fn no_record(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No learning record with id {id}."))
}

pub use crate::policy::record_viewer as viewer_of;

async fn readable(state: &AppState, access: &Access, id: Uuid) -> Result<LearningRecord> {
    let r = state.store.get_record(id).await.or_not_found(|| no_record(id))?;
    policy::check(Some(access), Action::Read, &Object::record(&r), || no_record(id), "")?;
    Ok(r)
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

fn record_created(r: &LearningRecord) -> HttpResponse {
    created(format!("/v1/learning-records/{}", r.id), r.version, &RecordView::from(r))
}

fn person_only(access: &Access) -> Result<Uuid> {
    access.person_id().ok_or_else(|| {
        ApiError::Forbidden("Only people keep a learning log; integration clients sync by reference.".into())
    })
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
