//! Insights for policy: aggregated figures that never single anyone out (decision 11).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

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

pub const TAG_INSIGHTS: &str = "Insights";
const TEXT_CSV: &str = "text/csv; charset=utf-8";

pub fn routes(cfg: &mut ServiceConfig) {
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

/// Which figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParticipationQuery {
    /// A closed quarter (`2026-Q3`); default: the last closed quarter.
    #[param(pattern = r"^2[0-9]{3}-Q[1-4]$", example = "2026-Q3")]
    pub period: Option<String>,
    /// One or two dimensions, comma-separated: `stakeholder_group`, `age_band`, `sector`.
    /// Leave it out for the network's total.
    #[param(
        pattern = "^(stakeholder_group|age_band|sector)(,(stakeholder_group|age_band|sector))?$",
        example = "age_band,sector"
    )]
    pub by: Option<String>,
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

/// A group and its figures. Every figure is `null` when the cell is suppressed; a group
/// without people is shown, with zeros (it tells nothing about anyone).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "group": {"age_band": "55_64", "sector": null},
    "people": 212, "participants": 87, "participation_rate": 0.41, "hours_per_participant": 7.5,
    "suppressed": false, "reason": null, "hours_suppressed": false
}))]
pub struct ParticipationCell {
    /// The value of each dimension of the table; `null` means all values (a total).
    #[schema(value_type = Object)]
    pub group: Group,
    /// Members counted.
    pub people: Option<i64>,
    /// Of those, members with at least one learning record that started in the period.
    pub participants: Option<i64>,
    /// `participants / people`, three decimals; `null` for a group without people.
    pub participation_rate: Option<f64>,
    /// Hours of the participants' records per participant, one decimal; `null` without
    /// participants, and withheld (`null`) when fewer than `k` of the cell's people logged a
    /// duration, when one person's minutes are most of the cell's (less the two largest,
    /// the rest is under 20 % of the largest), or to protect another cell's hours.
    pub hours_per_participant: Option<f64>,
    pub suppressed: bool,
    pub reason: Option<SuppressionReason>,
    /// Whether `hours_per_participant` is withheld while the counts are shown.
    pub hours_suppressed: bool,
}

/// A table of figures.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "insight": "learning_participation",
    "period": "2026-Q3",
    "dimensions": ["age_band"],
    "k": 5,
    "computed_at": "2026-10-01T08:00:00Z",
    "cells": [
        {"group": {"age_band": null}, "people": 640, "participants": 251, "participation_rate": 0.392,
         "hours_per_participant": 6.8, "suppressed": false, "reason": null, "hours_suppressed": false},
        {"group": {"age_band": "55_64"}, "people": 212, "participants": 87, "participation_rate": 0.41,
         "hours_per_participant": 7.5, "suppressed": false, "reason": null, "hours_suppressed": false},
        {"group": {"age_band": "65_plus"}, "people": null, "participants": null, "participation_rate": null,
         "hours_per_participant": null, "suppressed": true, "reason": "withheld_together", "hours_suppressed": false}
    ]
}))]
pub struct ParticipationTable {
    #[schema(example = "learning_participation")]
    pub insight: &'static str,
    pub period: String,
    /// The dimensions of the table, in canonical order (whatever order `by` gave).
    #[schema(value_type = Vec<String>)]
    pub dimensions: Vec<&'static str>,
    /// The smallest group a shown figure is about: the setting when the period's figures
    /// were computed (a later change applies to periods computed after it).
    pub k: i64,
    /// When the period's figures were computed; they never change after that (decision 11).
    pub computed_at: DateTime<Utc>,
    /// The total first, then every group: every value of every dimension, empty ones
    /// included, and for two dimensions every combination.
    pub cells: Vec<ParticipationCell>,
}

/// Learning participation
///
/// For a closed quarter: how many members logged learning that started in it, as
/// a share, and the hours per participant, for the whole network and broken down by one
/// or two dimensions (stakeholder group, age band, sector). Members are the people with the `member` role when the figures are
/// computed who did not opt out (`PUT /v1/me/insights-consent`);
/// organisation dimensions come from the organisation of their earliest membership in
/// force during the period (`none` without one). Records count whatever their visibility:
/// nothing of their content is shown.
///
/// **Disclosure control** (decision record 11): a cell is shown only when at least `k`
/// people learned and at least `k` did not, or when it is empty. More cells are withheld
/// where a total would let a withheld one be worked out, until the withheld cells together
/// hold at least `k` learners and `k` others more than the least those partners hold. The
/// withheld cells of a table with a total, and the inside of a two-way table with a small
/// cell, say `withheld_together`: not which of them are small. A two-way table's margins are exactly the one-way tables. A period's figures are computed once, on the
/// first request after it closed, and never change, so asking again after someone joined,
/// left, opted out or was erased tells nothing; such changes count from the next period.
///
/// Send `Accept: text/csv` for a spreadsheet: one row per cell, a column per dimension
/// (empty for "all"), empty figures where suppressed.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "get_learning_participation",
    params(ParticipationQuery),
    responses(
        (status = 200, description = "The table.", content(
            (ParticipationTable = "application/json"),
            (String = "text/csv", example = "period,age_band,people,participants,participation_rate,hours_per_participant,suppressed,reason,hours_suppressed\r\n2026-Q3,,640,251,0.392,6.8,false,,false\r\n2026-Q3,55_64,212,87,0.41,7.5,false,,false\r\n2026-Q3,65_plus,,,,,true,withheld_together,false\r\n"),
        )),
        (status = 403, description = "Only policy readers, facilitators and integration clients with `insights:read`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/insights/learning-participation")]
async fn learning_participation(
    caller: Caller,
    request: HttpRequest,
    query: web::Query<ParticipationQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    may_read(&caller)?;
    let query = query.into_inner();
    let period = closed_period(query.period.as_deref())?;
    let dimensions = parse_by(query.by.as_deref()).map_err(|e| ApiError::BadRequest(format!("`by`: {e}.")))?;
    let snapshot = state.store.learning_participation(period, state.settings.insights_k).await?;
    let k = snapshot.k;
    let values: Vec<Vec<String>> =
        dimensions.iter().map(|d| d.values().into_iter().map(str::to_string).collect()).collect();
    let mut cells = protect(&group_by(&snapshot.figures, &dimensions), &values, k);
    // Documentation order of the values, "all" first.
    let place = |cell: &Cell| -> Vec<usize> {
        cell.key
            .iter()
            .zip(&values)
            .map(|(v, all)| v.as_ref().map_or(0, |v| 1 + all.iter().position(|a| a == v).unwrap_or(all.len())))
            .collect()
    };
    cells.sort_by_cached_key(place);
    let table = ParticipationTable {
        insight: LEARNING_PARTICIPATION,
        period: period.to_string(),
        dimensions: dimensions.iter().map(|d| d.as_str()).collect(),
        k,
        computed_at: snapshot.computed_at,
        cells: cells.into_iter().map(|c| view(&dimensions, c)).collect(),
    };
    if wants_csv(&request) {
        return Ok(HttpResponse::Ok().content_type(TEXT_CSV).body(to_csv(&table)));
    }
    Ok(HttpResponse::Ok().json(table))
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

fn view(dimensions: &[Dimension], cell: Cell) -> ParticipationCell {
    let group = dimensions.iter().map(|d| d.as_str()).zip(cell.key).collect();
    let shown = cell.suppressed.is_none().then_some(cell.counts);
    ParticipationCell {
        group,
        people: shown.map(|c| c.people),
        participants: shown.map(|c| c.participants),
        participation_rate: shown.filter(|c| c.people > 0).map(|c| round(c.participation_rate(), 1000.0)),
        hours_per_participant: shown
            .filter(|c| cell.hours_suppressed.is_none() && c.participants > 0)
            .map(|c| round(c.hours_per_participant(), 10.0)),
        suppressed: cell.suppressed.is_some(),
        hours_suppressed: cell.suppressed.is_none() && cell.hours_suppressed.is_some(),
        reason: cell.suppressed.map(reason),
    }
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

fn to_csv(table: &ParticipationTable) -> String {
    let measures = ["people", "participants", "participation_rate", "hours_per_participant"];
    let columns = [&measures[..], &["suppressed", "reason", "hours_suppressed"]].concat();
    csv(&table.period, &table.dimensions, &columns, &table.cells, |cell| {
        let mut row = vec![integer(cell.people), integer(cell.participants)];
        row.extend([cell.participation_rate, cell.hours_per_participant].map(decimal));
        row.extend([cell.suppressed.to_string(), reason_text(cell.reason), cell.hours_suppressed.to_string()]);
        (&cell.group, row)
    })
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

/// The dimension event to action breaks down by.
const FORMAT: &str = "format";

/// The conversion rates, each the share of a step in its base step.
const RATES: [&str; 4] = ["attendance_rate", "commitment_rate", "done_rate", "proven_rate"];

/// Which event figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventToActionQuery {
    /// A closed quarter (`2026-Q3`); default: the last closed quarter.
    #[param(pattern = r"^2[0-9]{3}-Q[1-4]$", example = "2026-Q3")]
    pub period: Option<String>,
    /// `format` for a row per event format; leave it out for the network's total.
    #[param(pattern = "^format$", example = "format")]
    pub by: Option<String>,
}

/// A step of event to action.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Registered,
    Attended,
    Committed,
    Done,
    Proven,
}

const STEP_VALUES: [Step; 5] = [Step::Registered, Step::Attended, Step::Committed, Step::Done, Step::Proven];

/// A group of registrations and how far they came. A figure is `null` when withheld: a
/// cell withholds a step and every step after it (`withheld_from`), or nothing.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "group": {"format": "workshop"},
    "registered": 64, "attended": 51, "committed": 30, "done": 14, "proven": 7,
    "attendance_rate": 0.797, "commitment_rate": 0.469, "done_rate": 0.467, "proven_rate": 0.5,
    "suppressed": false, "withheld_from": null, "reason": null
}))]
pub struct EventToActionCell {
    /// The event format, or `null` for the total.
    #[schema(value_type = Object)]
    pub group: Group,
    /// Members with a registration holding a seat (confirmed, attended or no-show) for an
    /// event of the group that started in the period; once per format however many events.
    pub registered: Option<i64>,
    /// Of those, members checked in at one of the events.
    pub attended: Option<i64>,
    /// Of the registered, members who made a commitment at one of the events.
    pub committed: Option<i64>,
    /// Of those, members with a commitment marked done.
    pub done: Option<i64>,
    /// Of those, members with a done commitment linked to a learning record.
    pub proven: Option<i64>,
    /// `attended / registered`, three decimals.
    pub attendance_rate: Option<f64>,
    /// `committed / registered`.
    pub commitment_rate: Option<f64>,
    /// `done / committed`.
    pub done_rate: Option<f64>,
    /// `proven / done`.
    pub proven_rate: Option<f64>,
    /// Whether any step is withheld.
    pub suppressed: bool,
    /// The first step withheld; it and the steps after it are `null`.
    pub withheld_from: Option<Step>,
    pub reason: Option<SuppressionReason>,
}

/// Event-to-action figures of a quarter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "insight": "event_to_action",
    "period": "2026-Q3",
    "dimensions": ["format"],
    "k": 5,
    "computed_at": "2026-10-01T08:00:00Z",
    "cells": [
        {"group": {"format": null}, "registered": 98, "attended": 75, "committed": 46, "done": 24, "proven": 12,
         "attendance_rate": 0.765, "commitment_rate": 0.469, "done_rate": 0.522, "proven_rate": 0.5,
         "suppressed": false, "withheld_from": null, "reason": null},
        {"group": {"format": "workshop"}, "registered": 64, "attended": 51, "committed": 30, "done": 14, "proven": 7,
         "attendance_rate": 0.797, "commitment_rate": 0.469, "done_rate": 0.467, "proven_rate": 0.5,
         "suppressed": false, "withheld_from": null, "reason": null},
        {"group": {"format": "learning_network"}, "registered": null, "attended": null, "committed": null, "done": null,
         "proven": null, "attendance_rate": null, "commitment_rate": null, "done_rate": null, "proven_rate": null,
         "suppressed": true, "withheld_from": "registered", "reason": "withheld_together"},
        {"group": {"format": "field_visit"}, "registered": null, "attended": null, "committed": null, "done": null,
         "proven": null, "attendance_rate": null, "commitment_rate": null, "done_rate": null, "proven_rate": null,
         "suppressed": true, "withheld_from": "registered", "reason": "withheld_together"}
    ]
}))]
pub struct EventToActionTable {
    #[schema(example = "event_to_action")]
    pub insight: &'static str,
    pub period: String,
    /// `["format"]`, or `[]` for the total only.
    #[schema(value_type = Vec<String>)]
    pub dimensions: Vec<&'static str>,
    /// The smallest group a shown figure is about, as when the figures were computed.
    pub k: i64,
    /// When the quarter's figures were computed; they never change after that.
    pub computed_at: DateTime<Utc>,
    /// The total first, then every format, empty ones included (the example leaves the
    /// empty ones out).
    pub cells: Vec<EventToActionCell>,
}

/// Event to action
///
/// For a closed quarter: of the members who registered for events that started in it, how
/// many attended, made a commitment, did it, and proved it with a learning record, and the
/// conversion between the steps; for the network or per event format. A member counts once
/// per format however many of its events they registered for, so the total is the sum of
/// the formats (someone at a workshop and a webinar counts in both). Members are the people
/// with the `member` role who did not opt out (`PUT /v1/me/insights-consent`).
///
/// **Disclosure control** (decision record 11): a step is shown only when at least `k`
/// distinct people of its base step (`attended` and `committed` of `registered`, `done` of
/// `committed`, `proven` of `done`) reached it and at least `k` did not (`registered`: at
/// least `k` people, or none); a withheld step hides the later ones too. Where the total
/// shows a step, the formats withholding it together involve at least `k` people on each
/// side, counted as people across formats, plus `k` for every format withheld only to
/// protect another (such a format passes, so less would bound the small one); otherwise
/// another format is withheld from that step too, or the total is
/// (`protects_another_cell`). Formats withholding a step the total shows say
/// `withheld_together`, not which of them are small. Events are in the quarter by their start, Brussels time. A
/// quarter's figures are computed once, on the first request after it closed, and never
/// change: commitments done or proven after that do not count in them (`computed_at`).
///
/// Send `Accept: text/csv` for a spreadsheet.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "get_event_to_action",
    params(EventToActionQuery),
    responses(
        (status = 200, description = "The table.", content(
            (EventToActionTable = "application/json"),
            (String = "text/csv", example = "period,format,registered,attended,committed,done,proven,attendance_rate,commitment_rate,done_rate,proven_rate,suppressed,withheld_from,reason\r\n2026-Q3,,98,75,46,24,12,0.765,0.469,0.522,0.5,false,,\r\n2026-Q3,workshop,64,51,30,14,7,0.797,0.469,0.467,0.5,false,,\r\n2026-Q3,learning_network,,,,,,,,,,true,registered,withheld_together\r\n2026-Q3,field_visit,,,,,,,,,,true,registered,withheld_together\r\n"),
        )),
        (status = 403, description = "Only policy readers, facilitators and integration clients with `insights:read`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/insights/event-to-action")]
async fn event_to_action(
    caller: Caller,
    request: HttpRequest,
    query: web::Query<EventToActionQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    may_read(&caller)?;
    let query = query.into_inner();
    let period = closed_period(query.period.as_deref())?;
    let by_format = one_dimension(query.by.as_deref(), FORMAT)?;
    let kept = state.store.event_to_action(period, state.settings.insights_k).await?;
    let cells: Vec<ChainCell> = shown_cells(by_format, kept.figures);
    let table = EventToActionTable {
        insight: EVENT_TO_ACTION,
        period: period.to_string(),
        dimensions: if by_format { vec![FORMAT] } else { Vec::new() },
        k: kept.k,
        computed_at: kept.computed_at,
        cells: cells.into_iter().map(|c| chain_view(by_format, c)).collect(),
    };
    Ok(answer(&request, &table, chain_csv))
}

fn chain_view(by_format: bool, cell: ChainCell) -> EventToActionCell {
    let step = |i: usize| cell.shown.get(i).copied();
    let rate = |i: usize| match (step(i), BASE[i].and_then(step)) {
        (Some(n), Some(of)) if of > 0 => Some(round(n as f64 / of as f64, 1000.0)),
        _ => None,
    };
    let shown = cell.shown.len();
    EventToActionCell {
        group: grouped(by_format, FORMAT, cell.group),
        registered: step(0),
        attended: step(1),
        committed: step(2),
        done: step(3),
        proven: step(4),
        attendance_rate: rate(1),
        commitment_rate: rate(2),
        done_rate: rate(3),
        proven_rate: rate(4),
        suppressed: cell.withheld.is_some(),
        withheld_from: cell.withheld.map(|_| STEP_VALUES[shown]),
        reason: cell.withheld.map(reason),
    }
}

fn reason(s: Suppression) -> SuppressionReason {
    match s {
        Suppression::Primary => SuppressionReason::FewerThanK,
        Suppression::Secondary => SuppressionReason::ProtectsAnotherCell,
        Suppression::Together => SuppressionReason::WithheldTogether,
    }
}

fn chain_csv(table: &EventToActionTable) -> String {
    let columns = [&STEPS[..], &RATES, &["suppressed", "withheld_from", "reason"]].concat();
    csv(&table.period, &table.dimensions, &columns, &table.cells, |cell| {
        let mut row: Vec<String> =
            [cell.registered, cell.attended, cell.committed, cell.done, cell.proven].map(integer).into();
        row.extend([cell.attendance_rate, cell.commitment_rate, cell.done_rate, cell.proven_rate].map(decimal));
        row.push(cell.suppressed.to_string());
        row.push(cell.withheld_from.map(|s| STEPS[s as usize].to_string()).unwrap_or_default());
        row.push(reason_text(cell.reason));
        (&cell.group, row)
    })
}

/// The dimension shared solutions break down by.
const SECTOR: &str = "sector";

const SOLUTION_MEASURES: [&str; 6] =
    ["challenges", "published_idea", "published_piloted", "published_proven", "endorsements", "adopters"];

/// Which shared-solution figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SharedSolutionsQuery {
    /// A closed quarter (`2026-Q3`); default: the last closed quarter.
    #[param(pattern = r"^2[0-9]{3}-Q[1-4]$", example = "2026-Q3")]
    pub period: Option<String>,
    /// `sector` for a row per NACE section; leave it out for the network's total.
    #[param(pattern = "^sector$", example = "sector")]
    pub by: Option<String>,
}

/// A sector's shared solutions in a quarter. `adopters` counts people and is `null` where
/// withheld; the other counts are of things every caller lists already (challenges,
/// published solutions, and their endorsements with who made them), so they are always
/// shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "group": {"sector": "Q"}, "challenges": 4, "published_idea": 3, "published_piloted": 2,
    "published_proven": 1, "endorsements": 12, "adopters": null, "suppressed": true,
    "adopters_reason": "withheld_together"
}))]
pub struct SharedSolutionsCell {
    /// The NACE section the challenge or solution is about (`unknown` where none is given),
    /// or `null` for the total.
    #[schema(value_type = Object)]
    pub group: Group,
    /// Challenges posed in the quarter.
    pub challenges: i64,
    /// Solutions published in the quarter that are ideas now.
    pub published_idea: i64,
    /// ... piloted now.
    pub published_piloted: i64,
    /// ... proven now.
    pub published_proven: i64,
    /// Endorsements ("we use this too") of published solutions of the sector made in the
    /// quarter, by anyone: they are listed with their authors on each solution already.
    pub endorsements: i64,
    /// Members with a learning record that started in the quarter and applied a published
    /// solution of the sector, once per sector: the total counts someone who applied
    /// solutions of two sectors twice.
    pub adopters: Option<i64>,
    /// Whether `adopters` is withheld.
    pub suppressed: bool,
    pub adopters_reason: Option<SuppressionReason>,
}

/// Shared-solution figures of a quarter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "insight": "shared_solutions",
    "period": "2026-Q3",
    "dimensions": ["sector"],
    "k": 5,
    "computed_at": "2026-10-01T08:00:00Z",
    "cells": [
        {"group": {"sector": null}, "challenges": 9, "published_idea": 5, "published_piloted": 3,
         "published_proven": 2, "endorsements": 31, "adopters": 14, "suppressed": false,
         "adopters_reason": null},
        {"group": {"sector": "P"}, "challenges": 5, "published_idea": 2, "published_piloted": 1,
         "published_proven": 1, "endorsements": 19, "adopters": 8, "suppressed": false,
         "adopters_reason": null},
        {"group": {"sector": "Q"}, "challenges": 4, "published_idea": 3, "published_piloted": 2,
         "published_proven": 1, "endorsements": 12, "adopters": 6, "suppressed": false,
         "adopters_reason": null}
    ]
}))]
pub struct SharedSolutionsTable {
    #[schema(example = "shared_solutions")]
    pub insight: &'static str,
    pub period: String,
    /// `["sector"]`, or `[]` for the total only.
    #[schema(value_type = Vec<String>)]
    pub dimensions: Vec<&'static str>,
    /// The smallest group of people a shown figure is about, as when computed.
    pub k: i64,
    /// When the quarter's figures were computed; they never change after that.
    pub computed_at: DateTime<Utc>,
    /// The total first, then every NACE section and `unknown`, empty ones included (the
    /// example leaves the empty ones out).
    pub cells: Vec<SharedSolutionsCell>,
}

/// Shared solutions
///
/// Learning together, for a closed quarter: challenges posed, solutions published (by their
/// maturity now), endorsements of published solutions, and the members who applied a
/// published solution in a learning record that started in the quarter; for the network or
/// per NACE section of the challenge or solution (`unknown` where none is given).
/// Timestamps count in Brussels time.
///
/// **Disclosure control** (decision record 11): challenges, published solutions and their
/// endorsements (with who made them) are listed to every caller already, so their counts
/// are shown as they are, everyone's included. `adopters` counts people (members who did
/// not opt out), once per sector: a count is shown when it is at least `k` people or none;
/// where the total shows it, the sectors withholding it together hold at least `k` people
/// plus `k` per sector withheld to protect another, or the total withholds it too
/// (`protects_another_cell`); the sectors withholding it say `withheld_together`. A quarter's figures
/// are computed once, on the first request after it closed, and never change.
///
/// Send `Accept: text/csv` for a spreadsheet.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "get_shared_solutions",
    params(SharedSolutionsQuery),
    responses(
        (status = 200, description = "The table.", content(
            (SharedSolutionsTable = "application/json"),
            (String = "text/csv", example = "period,sector,challenges,published_idea,published_piloted,published_proven,endorsements,adopters,suppressed,adopters_reason\r\n2026-Q3,,9,5,3,2,31,14,false,\r\n2026-Q3,P,5,2,1,1,19,8,false,\r\n2026-Q3,Q,4,3,2,1,12,6,false,\r\n"),
        )),
        (status = 403, description = "Only policy readers, facilitators and integration clients with `insights:read`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/insights/shared-solutions")]
async fn shared_solutions(
    caller: Caller,
    request: HttpRequest,
    query: web::Query<SharedSolutionsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    may_read(&caller)?;
    let query = query.into_inner();
    let period = closed_period(query.period.as_deref())?;
    let by_sector = one_dimension(query.by.as_deref(), SECTOR)?;
    let kept = state.store.shared_solutions(period, state.settings.insights_k).await?;
    debug_assert_eq!(kept.figures.len(), 1 + solution_sectors().len());
    let cells: Vec<SolutionsCell> = shown_cells(by_sector, kept.figures);
    let table = SharedSolutionsTable {
        insight: SHARED_SOLUTIONS,
        period: period.to_string(),
        dimensions: if by_sector { vec![SECTOR] } else { Vec::new() },
        k: kept.k,
        computed_at: kept.computed_at,
        cells: cells.into_iter().map(|c| solutions_view(by_sector, c)).collect(),
    };
    Ok(answer(&request, &table, solutions_csv))
}

fn solutions_csv(table: &SharedSolutionsTable) -> String {
    let columns = [&SOLUTION_MEASURES[..], &["suppressed", "adopters_reason"]].concat();
    csv(&table.period, &table.dimensions, &columns, &table.cells, |cell| {
        let counts = [cell.challenges, cell.published_idea, cell.published_piloted, cell.published_proven];
        let mut row: Vec<String> = counts.map(|n| n.to_string()).into();
        row.extend([cell.endorsements.to_string(), integer(cell.adopters), cell.suppressed.to_string()]);
        row.push(reason_text(cell.adopters_reason));
        (&cell.group, row)
    })
}

fn solutions_view(by_sector: bool, cell: SolutionsCell) -> SharedSolutionsCell {
    let (adopters, adopters_reason) = (cell.adopters.shown.first().copied(), cell.adopters.withheld.map(reason));
    SharedSolutionsCell {
        group: grouped(by_sector, SECTOR, cell.group),
        challenges: cell.challenges,
        published_idea: cell.published[0],
        published_piloted: cell.published[1],
        published_proven: cell.published[2],
        endorsements: cell.endorsements,
        adopters,
        suppressed: adopters_reason.is_some(),
        adopters_reason,
    }
}

/// Whether you are counted in the network's insights.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"counted_in_insights": false}))]
pub struct InsightsConsent {
    /// `true` (the default): your learning records count, anonymously, in the figures of
    /// periods computed from now on. `false`: you are left out of them.
    pub counted_in_insights: bool,
}

/// Am I counted in insights
///
/// Whether your learning records count, anonymously and only in groups of at least `k`
/// people, in the network's figures for policy (`/v1/insights`). They do unless you
/// opted out.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "get_insights_consent",
    responses(
        (status = 200, description = "Your choice.", body = InsightsConsent),
        (status = 403, description = "Integration clients are not people.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/me/insights-consent")]
async fn get_insights_consent(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    let me = people_only(&caller)?;
    let counted = state.store.counted_in_insights(me).await.map_err(account_gone)?;
    Ok(HttpResponse::Ok().json(InsightsConsent { counted_in_insights: counted }))
}

/// Choose whether I am counted in insights
///
/// Opt out of (`false`) or back into (`true`) the network's figures for policy. The
/// choice applies to every period whose figures are computed from now on; figures of
/// periods already computed stay as they are (they hold sums over groups of at least `k`
/// people, nothing about you), so that comparing them tells nobody what you chose.
/// Erasing your account (`DELETE /v1/me`) removes you from them in the same way.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "put_insights_consent",
    request_body = InsightsConsent,
    responses(
        (status = 200, description = "Your choice, saved.", body = InsightsConsent),
        (status = 403, description = "Integration clients are not people.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/me/insights-consent")]
async fn put_insights_consent(
    caller: Caller,
    body: web::Json<InsightsConsent>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let me = people_only(&caller)?;
    state.store.set_counted_in_insights(me, body.counted_in_insights).await.map_err(account_gone)?;
    Ok(HttpResponse::Ok().json(InsightsConsent { counted_in_insights: body.counted_in_insights }))
}
