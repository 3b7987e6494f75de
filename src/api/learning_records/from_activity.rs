//! Records made from what a person did: an attended event, a kept commitment.

use super::*;

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

pub(super) async fn record_from(
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
    let record = LearningRecord::manual(owner, content, sharing, at);
    state.store.create_record(&record, done).await?;
    Ok(record_created(&record))
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
pub(super) async fn record_from_registration(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<RecordFrom>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
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

pub(super) fn already(existing: Uuid, what: &str) -> HttpResponse {
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
pub(super) async fn record_from_commitment(
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<RecordFrom>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
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
    let record = LearningRecord::manual(me, content, sharing, at);
    let linked = crate::domain::event::Commitment {
        learning_record_id: Some(record.id),
        updated_at: at,
        version: c.version + 1,
        ..c.clone()
    };
    state.store.create_record(&record, Some(&linked)).await?;
    Ok(record_created(&record))
}
