//! Insights for policy: aggregated figures that never single anyone out (decision 11).

use std::collections::BTreeMap;

use crate::api::Routes;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::privacy::{account_gone, people_only};
use crate::auth::Caller;
use crate::auth::rights::{Role, Scope};
use crate::db::insights::{EVENT_TO_ACTION, LEARNING_PARTICIPATION, SHARED_SOLUTIONS, SolutionsCell, solution_sectors};
use crate::domain::event::EventFormat;
use crate::domain::insights::chain::{BASE, ChainCell, STEPS};
use crate::domain::insights::disclosure::{Cell, Suppression, protect};
use crate::domain::insights::{Dimension, Period, group_by, parse_by};
use crate::error::{ApiError, Problem, Result};
use crate::state::AppState;

mod chain;
mod consent;
mod participation;
mod solutions;

pub use chain::*;
pub use consent::*;
pub use participation::*;
pub use solutions::*;

pub const TAG_INSIGHTS: &str = "Insights";
const TEXT_CSV: &str = "text/csv; charset=utf-8";

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_insights)
        .service(learning_participation)
        .service(event_to_action)
        .service(shared_solutions)
        .service(get_insights_consent)
        .service(put_insights_consent);
}

/// Policy readers, facilitators and integration clients with `insights:read` read the
/// network's figures.
fn may_read(caller: &Caller) -> Result<()> {
    if caller.has_role(Role::PolicyReader)
        || caller.has_role(Role::Facilitator)
        || caller.scopes.contains(&Scope::InsightsRead)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Insights are for policy readers, facilitators and integration clients with `insights:read`.".into(),
        ))
    }
}

/// A dimension and the values it takes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "stakeholder_group", "values": ["employee", "employer_representative", "hr_professional", "policy_maker", "facilitator", "other"]}))]
pub struct DimensionInfo {
    #[schema(example = "age_band")]
    pub name: &'static str,
    /// Every value, in order; every table has a cell for each, empty ones included.
    #[schema(example = json!(["under_25", "25_34", "35_44", "45_54", "55_64", "65_plus", "unknown"]))]
    pub values: Vec<&'static str>,
}

/// One kind of figures.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "learning_participation",
    "path": "/v1/insights/learning-participation",
    "description": "The share of members who logged learning that started in the period, and the hours per participant.",
    "measures": ["people", "participants", "participation_rate", "hours_per_participant"],
    "dimensions": [{"name": "stakeholder_group", "values": ["employee", "employer_representative", "hr_professional", "policy_maker", "facilitator", "other"]}],
    "default_period": "2026-Q3"
}))]
pub struct InsightInfo {
    #[schema(example = "learning_participation")]
    pub name: &'static str,
    /// Where to read it.
    #[schema(example = "/v1/insights/learning-participation")]
    pub path: &'static str,
    pub description: &'static str,
    /// The figures of each cell.
    #[schema(example = json!(["people", "participants", "participation_rate", "hours_per_participant"]))]
    pub measures: Vec<&'static str>,
    /// What `by` may name (one or two of them).
    pub dimensions: Vec<DimensionInfo>,
    /// The period asked for when none is given: the last closed quarter.
    #[schema(example = "2026-Q3")]
    pub default_period: String,
}

/// What insights there are, for building pickers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "k": 5,
    "insights": [{
        "name": "learning_participation",
        "path": "/v1/insights/learning-participation",
        "description": "The share of members who logged learning that started in the period, and the hours per participant.",
        "measures": ["people", "participants", "participation_rate", "hours_per_participant"],
        "dimensions": [{"name": "age_band", "values": ["under_25", "25_34", "35_44", "45_54", "55_64", "65_plus", "unknown"]}],
        "default_period": "2026-Q3"
    }]
}))]
pub struct InsightCatalogue {
    /// The smallest group a shown figure is about.
    pub k: i64,
    pub insights: Vec<InsightInfo>,
}

/// List the insights
///
/// The figures policy readers, facilitators and integration clients with `insights:read` can read, with their measures, the
/// dimensions they break down by and every value of each, and the `k` this service
/// protects with: a front end builds its pickers from this.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "list_insights",
    responses(
        (status = 200, description = "The catalogue.", body = InsightCatalogue),
        (status = 403, description = "Only policy readers, facilitators and integration clients with `insights:read`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/insights")]
async fn list_insights(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    may_read(&caller)?;
    let default_period = Period::last_closed_quarter(Utc::now().date_naive()).to_string();
    Ok(HttpResponse::Ok().json(InsightCatalogue {
        k: state.settings.insights_k,
        insights: vec![
            InsightInfo {
                name: LEARNING_PARTICIPATION,
                path: "/v1/insights/learning-participation",
                description: "The share of members who logged learning that started in the period, and the hours \
                              per participant.",
                measures: vec!["people", "participants", "participation_rate", "hours_per_participant"],
                dimensions: Dimension::ALL
                    .iter()
                    .map(|d| DimensionInfo { name: d.as_str(), values: d.values() })
                    .collect(),
                default_period: default_period.clone(),
            },
            InsightInfo {
                name: EVENT_TO_ACTION,
                path: "/v1/insights/event-to-action",
                description: "From registration to action: how many members registered for events that started \
                              in the period, attended, made a commitment, did it and proved it with a learning \
                              record, and the conversion between the steps.",
                measures: STEPS.iter().chain(&RATES).copied().collect(),
                dimensions: vec![DimensionInfo {
                    name: FORMAT,
                    values: EventFormat::ALL.iter().map(|f| f.as_str()).collect(),
                }],
                default_period: default_period.clone(),
            },
            InsightInfo {
                name: SHARED_SOLUTIONS,
                path: "/v1/insights/shared-solutions",
                description: "Learning together: challenges posed, solutions published by maturity, endorsements, \
                              and the members who adopted (applied in a learning record) a solution, by the sector \
                              the challenge or solution is about.",
                measures: SOLUTION_MEASURES.to_vec(),
                dimensions: vec![DimensionInfo {
                    name: SECTOR,
                    values: Dimension::Sector.values().into_iter().filter(|v| *v != "none").collect(),
                }],
                default_period,
            },
        ],
    }))
}

/// Why a cell's figures are withheld.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// Fewer than `k` people on one side: who learned and who did not, or who reached a
    /// step and who did not. Said only where no total is shown to subtract from.
    FewerThanK,
    /// A total withheld because the cells it would let a reader work out are too few.
    ProtectsAnotherCell,
    /// Withheld with the other withheld cells of its table (or of a two-way table's inside):
    /// some of them are small, others protect those, and which is which is not said. A
    /// reader who knew could bound the small ones from the total.
    WithheldTogether,
}

impl SuppressionReason {
    fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::FewerThanK => "fewer_than_k",
            SuppressionReason::ProtectsAnotherCell => "protects_another_cell",
            SuppressionReason::WithheldTogether => "withheld_together",
        }
    }
}

/// The quarter asked for, which must be over; the last closed one when none is given.
fn closed_period(period: Option<&str>) -> Result<Period> {
    let today = Utc::now().date_naive();
    let period = match period {
        None => Period::last_closed_quarter(today),
        Some(p) => Period::parse(p).map_err(|e| ApiError::BadRequest(format!("`period` {e}.")))?,
    };
    if !period.is_closed(today) {
        return Err(ApiError::BadRequest(format!(
            "`period` {period} is not over yet: figures exist for closed quarters only."
        )));
    }
    Ok(period)
}

fn round(value: f64, scale: f64) -> f64 {
    (value * scale).round() / scale
}

/// Whether the caller asked for CSV rather than JSON.
fn wants_csv(request: &HttpRequest) -> bool {
    request.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|m| {
        let m = m.split(';').next().unwrap_or("").trim();
        m.eq_ignore_ascii_case("text/csv")
    })
}

/// The table as JSON, or as CSV when the caller asks for `text/csv`.
fn answer<T: Serialize>(request: &HttpRequest, table: &T, to_csv: fn(&T) -> String) -> HttpResponse {
    if wants_csv(request) {
        return HttpResponse::Ok().content_type(TEXT_CSV).body(to_csv(table));
    }
    HttpResponse::Ok().json(table)
}

/// A cell's group: the value of each dimension, `null` for "all".
type Group = BTreeMap<&'static str, Option<String>>;

/// RFC 4180: CRLF line ends; no field here needs quoting (values are fixed names). A header
/// of the period, the dimensions and `columns`; a row per cell of the period, the cell's
/// group values and the values `row` gives for it.
fn csv<C>(
    period: &str,
    dimensions: &[&'static str],
    columns: &[&str],
    cells: &[C],
    row: impl Fn(&C) -> (&Group, Vec<String>),
) -> String {
    let mut out = ["period"].iter().chain(dimensions).chain(columns).copied().collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for cell in cells {
        let (group, values) = row(cell);
        let mut line: Vec<String> = vec![period.to_string()];
        line.extend(dimensions.iter().map(|d| group[d].clone().unwrap_or_default()));
        line.extend(values);
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn reason_text(reason: Option<SuppressionReason>) -> String {
    reason.map(|r| r.as_str().to_string()).unwrap_or_default()
}

/// The one optional dimension of an insight: whether `by` names it.
fn one_dimension(by: Option<&str>, dimension: &'static str) -> Result<bool> {
    match by {
        None => Ok(false),
        Some(d) if d == dimension => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!("`by`: `{other}` is not a dimension; use `{dimension}`."))),
    }
}

/// The cells to show: all of them by the dimension, or only the first (the total).
fn shown_cells<C>(by: bool, figures: Vec<C>) -> Vec<C> {
    if by { figures } else { figures.into_iter().take(1).collect() }
}

fn grouped(by: bool, dimension: &'static str, value: Option<String>) -> Group {
    if by { BTreeMap::from([(dimension, value)]) } else { BTreeMap::new() }
}

fn integer(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Written as in the JSON (`3.0`, not `3`); empty when withheld.
fn decimal(value: Option<f64>) -> String {
    value.map(|v| serde_json::Value::from(v).to_string()).unwrap_or_default()
}

fn reason(s: Suppression) -> SuppressionReason {
    match s {
        Suppression::Primary => SuppressionReason::FewerThanK,
        Suppression::Secondary => SuppressionReason::ProtectsAnotherCell,
        Suppression::Together => SuppressionReason::WithheldTogether,
    }
}
