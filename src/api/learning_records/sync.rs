//! HR sync: records upserted by external reference, one at a time or in batches.

use super::*;
use crate::db::feed::ResourceType;
use crate::domain::organisation::parse_theme_slugs;

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
    /// The member of your organisation whose learning it is, by our id. Exactly one of
    /// `person_id` and `person_ref` (neither: 422 at `/person_id`; both: 422 at `/person_ref`).
    #[serde(default)]
    pub person_id: Option<Uuid>,
    /// The same member by your system's id for them (the reference an upsert of people by
    /// reference or a batch made in the same `system`), instead of `person_id`. One your
    /// organisation does not have, or of someone no longer a member, is refused at
    /// `/person_ref`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "E-10442")]
    pub person_ref: Option<String>,
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
    /// The member of your organisation whose learning it is, by our id. Exactly one of
    /// `person_id` and `person_ref` (neither: 422 at `/person_id`; both: 422 at `/person_ref`).
    #[serde(default)]
    pub person_id: Option<Uuid>,
    /// The same member by your system's id for them (the reference an upsert of people by
    /// reference or a batch made in the same system), instead of `person_id`. One your
    /// organisation does not have, or of someone no longer a member, is `404` at
    /// `/person_ref`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "E-10442")]
    pub person_ref: Option<String>,
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

/// Whose record an item is: a person by our id, or by the system's reference to them.
#[derive(Debug, Clone)]
pub(super) enum PersonKey {
    Id(Uuid),
    Ref(String),
}

impl PersonKey {
    /// Exactly one of the two, or what is wrong (with its pointer, relative to the item).
    pub(super) fn of(id: Option<Uuid>, reference: Option<String>) -> std::result::Result<Self, FieldError> {
        match (id, reference) {
            (Some(id), None) => Ok(PersonKey::Id(id)),
            (None, Some(r)) => Ok(PersonKey::Ref(r)),
            (None, None) => Err(FieldError::new("/person_id", "is required (or the person's reference, `person_ref`)")),
            (Some(_), Some(_)) => Err(FieldError::new("/person_ref", "give `person_id` or `person_ref`, not both")),
        }
    }

    /// The field that named the person, for problems.
    fn field(&self) -> &'static str {
        match self {
            PersonKey::Id(_) => "person_id",
            PersonKey::Ref(_) => "person_ref",
        }
    }
}

impl RecordItem {
    fn into_input(self) -> std::result::Result<(String, PersonKey, RecordInput), FieldError> {
        Ok((
            self.external_id,
            PersonKey::of(self.person_id, self.person_ref)?,
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
        ))
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
pub(super) async fn sync_access(caller: &Caller, state: &AppState, organisation: Uuid) -> Result<Access> {
    let access = Access::of(caller);
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

pub(super) fn item_problem(detail: String, errors: Vec<FieldError>) -> Problem {
    let mut problem = ApiError::Invalid(Invalid { errors }).problem();
    problem.detail = detail;
    problem
}

pub(super) fn refused(index: usize, row: Option<usize>, external_id: Option<String>, problem: Problem) -> RecordResult {
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
pub(super) struct Parsed {
    pub(super) index: usize,
    /// The CSV line number.
    pub(super) row: Option<usize>,
    /// The item's `external_id`, when it had one, also when it did not parse.
    pub(super) external_id: Option<String>,
    pub(super) item: std::result::Result<(String, PersonKey, RecordInput), Problem>,
}

/// Validates parsed items and applies the valid ones; `prefixes` name each item in
/// problems (`/items/3` or `/rows/3`).
pub(super) async fn apply_items(
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
    let refs: Vec<&str> = parsed
        .iter()
        .filter_map(|p| match p.item.as_ref() {
            Ok((_, PersonKey::Ref(r), _)) if ExternalRef::parse(system, r, "").is_ok() => Some(r.as_str()),
            _ => None,
        })
        .collect();
    let by_ref = state.store.find_refs(organisation, system, ResourceType::Person, &refs).await?;
    let person_of = |key: &PersonKey| match key {
        PersonKey::Id(id) => Some(*id),
        PersonKey::Ref(r) => by_ref.get(r).copied(),
    };
    let people: Vec<Uuid> =
        parsed.iter().filter_map(|p| p.item.as_ref().ok().and_then(|(_, k, _)| person_of(k))).collect();
    let members = state.store.members_among(organisation, &people, state.today()).await?;
    // Only well-formed slugs of items within the limit are looked up: the others are
    // refused by the item's own validation, and never reach the database.
    let mut slugs: Vec<String> = Vec::new();
    for p in &parsed {
        if let Ok((_, _, input)) = &p.item
            && let Ok(themes) = parse_theme_slugs(&input.themes)
        {
            for t in themes {
                if !slugs.contains(&t) {
                    slugs.push(t);
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
        let (external_id, key, input) = match p {
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
        let person = person_of(&key);
        if let PersonKey::Ref(r) = &key
            && let Err(e) = ExternalRef::parse(system, r, "")
        {
            let detail = e.errors.into_iter().map(|f| f.detail).next().unwrap_or_default();
            inv.errors.push(FieldError::new(format!("{at}/person_ref"), detail));
        }
        match person {
            Some(p) if members.contains(&p) => {}
            Some(_) => inv
                .errors
                .push(FieldError::new(format!("{at}/{}", key.field()), "is not a current member of this organisation")),
            None if inv.errors.is_empty() => inv.errors.push(FieldError::new(
                format!("{at}/person_ref"),
                format!("no person of this organisation has this reference in `{system}`"),
            )),
            None => {}
        }
        if let Some(t) = input.themes.iter().find(|t| missing_themes.contains(t)) {
            inv.errors.push(FieldError::new(format!("{at}/themes"), format!("no theme with slug `{t}`")));
        }
        match RecordContent::parse(input, &at) {
            Ok(content) if inv.errors.is_empty() => {
                let person_id = person.expect("a member, checked above");
                valid.push((index, RecordUpsert { external_id, person_id, content }));
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

pub(super) fn parse_system(system: &str, pointer: &str) -> Result<String> {
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
pub(super) async fn upsert_record_by_ref(
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
    if let Some(r) = &b.person_ref {
        ExternalRef::parse(&system, r, "").map_err(|e| {
            Invalid::one("/person_ref", e.errors.into_iter().map(|f| f.detail).next().unwrap_or_default())
        })?;
    }
    let item = RecordItem {
        external_id,
        person_id: b.person_id,
        person_ref: b.person_ref,
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
        vec![Parsed {
            index: 0,
            row: None,
            external_id: None,
            item: Ok(item.into_input().map_err(|e| Invalid { errors: vec![e] })?),
        }],
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
            } else if let [only] = &errors[..]
                && (only.pointer == "/person_id" || only.pointer == "/person_ref")
            {
                Err(ApiError::MissingReference {
                    detail: format!("No member of this organisation with that {}.", &only.pointer[1..]),
                    pointer: only.pointer.clone(),
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
pub(super) async fn upsert_records_batch(
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
            let item = serde_json::from_str::<RecordItem>(raw.get())
                .map_err(|e| FieldError::new("", e.to_string()))
                .and_then(RecordItem::into_input);
            // Only a refused item needs its `external_id` read on its own.
            let external_id = match &item {
                Ok(_) => None,
                Err(_) => serde_json::from_str::<IdOnly>(raw.get()).ok().and_then(|i| i.external_id),
            };
            let item = item.map_err(|e| {
                item_problem(
                    format!("Item {index} is not valid; see `errors`."),
                    vec![FieldError::new(format!("/items/{index}{}", e.pointer), e.detail)],
                )
            });
            Parsed { index, row: None, external_id, item }
        })
        .collect();
    let results = apply_items(&state, organisation, &system, &system, parsed, "/items").await?;
    Ok(HttpResponse::Ok().json(RecordBatchResponse { results }))
}

/// Who reads an organisation's synced records by reference: its clients with
/// `learning-records:read` or `learning-records:write`, its admins, and facilitators (`403`
/// for others, `404` when there is no such organisation). What each of them then sees of a
/// record is what `GET /v1/learning-records/{id}` shows them.
async fn record_ref_reader(state: &AppState, access: &Access, organisation: Uuid) -> Result<()> {
    let allowed = match access {
        Access::Client { organisation_id, scopes, .. } => {
            *organisation_id == Some(organisation)
                && (scopes.contains(&Scope::LearningRecordsRead) || scopes.contains(&Scope::LearningRecordsWrite))
        }
        Access::Person { admin_of, .. } => admin_of.contains(&organisation),
        Access::Facilitator { .. } => true,
    };
    if !state.store.missing_organisations(&[organisation]).await?.is_empty() {
        return Err(ApiError::not_found(format!("No organisation with id {organisation}.")));
    }
    if !allowed {
        return Err(ApiError::Forbidden(
            "This needs `learning-records:read` for this organisation, or being its admin.".into(),
        ));
    }
    Ok(())
}

/// Read a learning record by your reference
///
/// The record your system synced as `{external_id}` in `{system}`, as
/// `GET /v1/learning-records/{id}` shows it to you: an organisation sees only what the
/// person shared with it, so a record they keep private (every new synced record is), or
/// deleted, answers `404`. `Content-Location` gives the
/// record's own URL. The organisation's clients with `learning-records:read` or
/// `learning-records:write`, its admins, and facilitators.
#[utoipa::path(
    tag = "Sync",
    operation_id = "get_learning_record_by_ref",
    params(OrgRefPath, IfNoneMatch),
    responses(
        (status = 200, description = "The record.", body = RecordView,
            headers(("ETag" = String, description = "The version, quoted"), ("Content-Location" = String, description = "The record's URL"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
        (status = 403, description = "Only the organisation's clients with `learning-records:read` or `learning-records:write`, its admins, and facilitators.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no record with this reference that you may read.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/learning-records/by-ref/{system}/{external_id}")]
pub(super) async fn get_record_by_ref(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<OrgRefPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    let access = Access::of(&caller);
    record_ref_reader(&state, &access, organisation).await?;
    let missing = || no_ref("learning record you may read", &reference);
    let id = state.store.record_by_ref(organisation, &reference.system, &reference.id).await?.ok_or_else(missing)?;
    let record = readable(&state, &access, id).await.map_err(|e| match e {
        ApiError::NotFound(_) => missing(),
        e => e,
    })?;
    Ok(read_back(&req, format!("/v1/learning-records/{id}"), record.version, &RecordView::from(&record)))
}

/// Retract a learning record by your reference
///
/// Your system takes back a record it synced as `{external_id}` in `{system}` (one it
/// should not have sent): the record is deleted, with its sharing, for everyone it was
/// shared with, and a later sync of the same reference creates a new, private record. That
/// is the only say an HR system has over a record beyond its content: records people log
/// themselves have no reference of yours, and whom a record is shared with is the person's
/// choice. Only while the person is a current member of the organisation; a record its
/// person deleted is gone already (`404`). `If-Match` with the `version` the upsert
/// answered (or the ETag you read) makes sure it did not change since (`412` otherwise).
/// The organisation's clients with `learning-records:write` and its admins.
#[utoipa::path(
    tag = "Sync",
    operation_id = "retract_learning_record_by_ref",
    params(OrgRefPath, IfMatch),
    responses(
        (status = 204, description = "Retracted: the record is deleted."),
        (status = 403, description = "Only the organisation's clients with `learning-records:write` and its admins.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, no record with this reference in it, or its person is no longer a member.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record, or a commitment it proves, kept changing meanwhile; try again.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since the version in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}/learning-records/by-ref/{system}/{external_id}")]
pub(super) async fn retract_record_by_ref(
    caller: Caller,
    path: web::Path<OrgRefPath>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (organisation, reference) = path.parse()?;
    sync_access(&caller, &state, organisation).await?;
    let missing = || no_ref("learning record", &reference);
    let id = state.store.record_by_ref(organisation, &reference.system, &reference.id).await?.ok_or_else(missing)?;
    // Always at the version read: the tombstone goes to whom the record was shared with
    // then, so a share made meanwhile must not slip past it. Without `If-Match`, a record
    // that changed meanwhile is read again.
    for _ in 0..3 {
        let current = state.store.get_record(id).await.or_not_found(missing)?;
        // Only while the person belongs to the organisation, as for a sync: once they left,
        // their records are no longer its business (and their state no longer its to learn).
        let members = state.store.members_among(organisation, &[current.person_id], state.today()).await?;
        if !members.contains(&current.person_id) {
            return Err(missing());
        }
        if_match.check(current.version)?;
        match remove_record(&state, &current, Some(current.version), true).await {
            Ok(()) => return Ok(HttpResponse::NoContent().finish()),
            Err(ApiError::NotFound(_)) => return Err(missing()),
            Err(ApiError::PreconditionFailed { .. }) if if_match.is_absent() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict("The record keeps changing; try again.", None))
}
