//! HR sync: records upserted by external reference, one at a time or in batches.

use super::*;

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
    pub(super) item: std::result::Result<(String, Uuid, RecordInput), Problem>,
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
