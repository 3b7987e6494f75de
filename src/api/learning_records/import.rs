//! CSV import of a person's own learning records.

use super::*;

/// The `external_id` of an item that did not parse as a whole.
#[derive(Deserialize)]
pub(super) struct IdOnly {
    pub(super) external_id: Option<String>,
}

/// The system of a CSV import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The name the rows' `external_id`s belong to, such as `hr-spreadsheet` (default
    /// `import`), and the system whose
    /// person references a `person_ref` column names. Rows with the same `external_id` as
    /// records your system synced under this name update those records.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub system: Option<String>,
}

pub(super) const CSV_COLUMNS: &[&str] = &[
    "external_id",
    "person_id",
    "person_ref",
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
pub(super) fn csv_row(
    index: usize,
    line: usize,
    header: &[String],
    record: &csv::StringRecord,
) -> std::result::Result<(String, PersonKey, RecordInput), Problem> {
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
    let person = match get("person_id").map(|p| Uuid::parse_str(&p)).transpose() {
        Ok(id) => PersonKey::of(id, get("person_ref"))
            .map_err(|e| errors.push(FieldError::new(format!("/rows/{line}{}", e.pointer), e.detail)))
            .ok(),
        Err(_) => {
            errors.push(FieldError::new(at("person_id"), "must be a UUID"));
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
/// `person_id` (a member of the organisation) or `person_ref` (your `system`'s id for them),
/// `title`, `activity_type`, `started_on` (YYYY-MM-DD) required; `description`, `learned`, `will_do_differently`, `context`,
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
pub(super) async fn import_records_csv(
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
