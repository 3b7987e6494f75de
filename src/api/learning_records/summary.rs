//! A person's learning summary: counts by kind, context and theme.

use super::*;

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

pub(super) fn grouped(groups: std::collections::BTreeMap<String, SummaryCount>) -> Vec<SummaryCount> {
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
pub(super) async fn record_summary(
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<SummaryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let person = id.into_inner();
    let access = Access::of(&caller);
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
