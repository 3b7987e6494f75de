//! Records as stored, and the feed entries they make.

use super::*;
pub(super) use crate::db::invalid_stored;

#[derive(sqlx::FromRow)]
pub(super) struct RecordRow {
    pub(super) id: Uuid,
    pub(super) person_id: Uuid,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) learned: Option<String>,
    pub(super) will_do_differently: Option<String>,
    pub(super) activity_type: String,
    pub(super) context: String,
    pub(super) context_chosen: bool,
    pub(super) started_on: NaiveDate,
    pub(super) ended_on: Option<NaiveDate>,
    pub(super) duration_minutes: Option<i64>,
    pub(super) skills: String,
    pub(super) themes: String,
    pub(super) evidence: String,
    pub(super) event_id: Option<Uuid>,
    pub(super) commitment_id: Option<Uuid>,
    pub(super) solution_id: Option<Uuid>,
    pub(super) source: String,
    pub(super) visibility: String,
    pub(super) shared_with: String,
    pub(super) ref_scope: Option<Uuid>,
    pub(super) ref_system: Option<String>,
    pub(super) ref_external_id: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
}

pub(super) const RECORD_COLUMNS: &str = "r.id, r.person_id, r.title, r.description, r.learned, r.will_do_differently, \
     r.activity_type, r.context, r.context_chosen, r.started_on, r.ended_on, r.duration_minutes, r.skills, r.themes, \
     r.evidence, r.event_id, r.commitment_id, r.source, r.visibility, r.shared_with, r.ref_scope, r.ref_system, \
     r.ref_external_id, r.created_at, r.updated_at, r.version, r.solution_id";

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|_| invalid_stored(what))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

impl TryFrom<RecordRow> for LearningRecord {
    type Error = StoreError;

    fn try_from(r: RecordRow) -> Result<Self, StoreError> {
        let skills: Vec<Skill> = from_json(&r.skills, "skill list")?;
        Ok(LearningRecord {
            id: r.id,
            person_id: r.person_id,
            content: RecordContent {
                title: r.title,
                description: r.description,
                learned: r.learned,
                will_do_differently: r.will_do_differently,
                activity_type: ActivityType::parse(&r.activity_type).ok_or_else(|| invalid_stored("activity type"))?,
                context: LearningContext::parse(&r.context).ok_or_else(|| invalid_stored("context"))?,
                context_chosen: r.context_chosen,
                started_on: r.started_on,
                ended_on: r.ended_on,
                duration_minutes: r.duration_minutes,
                skills,
                themes: from_json(&r.themes, "theme list")?,
                evidence: from_json(&r.evidence, "evidence list")?,
                event_id: r.event_id,
                commitment_id: r.commitment_id,
                solution_id: r.solution_id,
            },
            sharing: Sharing {
                visibility: Visibility::parse(&r.visibility).ok_or_else(|| invalid_stored("visibility"))?,
                shared_with: from_json(&r.shared_with, "organisation list")?,
            },
            source: r.source,
            external_ref: match (r.ref_scope, r.ref_system, r.ref_external_id) {
                (Some(scope), Some(system), Some(external_id)) => Some(RecordRef { scope, system, external_id }),
                _ => None,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// Who may read a record besides facilitators' moderation: its owner, the organisations it
/// is shared with, and with `network` every signed-in member.
pub fn record_audience(r: &LearningRecord) -> Vec<Uuid> {
    let mut audience = vec![r.person_id];
    match r.sharing.visibility {
        Visibility::Private => {}
        Visibility::Organisation => audience.extend(r.sharing.shared_with.iter().copied()),
        Visibility::Network => audience.push(NETWORK_AUDIENCE),
    }
    audience
}

/// The feed entries of a change from `before` to `after`: a tombstone for whoever no
/// longer may read the record, then the record for whoever may.
pub(super) fn change_entries(before: Option<&LearningRecord>, after: &LearningRecord) -> StoreResult<Vec<Change>> {
    let now_audience = record_audience(after);
    let mut changes = Vec::with_capacity(2);
    if let Some(before) = before {
        let dropped: Vec<Uuid> = record_audience(before).into_iter().filter(|a| !now_audience.contains(a)).collect();
        if !dropped.is_empty() {
            changes.push(Change::withdraw(ResourceType::LearningRecord, after.id, after.version, dropped));
        }
    }
    changes.push(Change::of(after, false, now_audience)?);
    Ok(changes)
}
