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
use crate::auth::rights::Role;
use crate::db::insights::LEARNING_PARTICIPATION;
use crate::domain::insights::disclosure::{Cell, Suppression, protect};
use crate::domain::insights::{Dimension, Period, group_by, parse_by};
use crate::error::{ApiError, Problem, Result};
use crate::state::AppState;

pub const TAG_INSIGHTS: &str = "Insights";
const TEXT_CSV: &str = "text/csv; charset=utf-8";

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_insights)
        .service(learning_participation)
        .service(get_insights_consent)
        .service(put_insights_consent);
}

/// Policy readers and facilitators read the network's figures.
fn may_read(caller: &Caller) -> Result<()> {
    if caller.has_role(Role::PolicyReader) || caller.has_role(Role::Facilitator) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Insights are for policy readers and facilitators.".into()))
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
/// The figures policy readers and facilitators can read, with their measures, the
/// dimensions they break down by and every value of each, and the `k` this service
/// protects with: a front end builds its pickers from this.
#[utoipa::path(
    tag = TAG_INSIGHTS,
    operation_id = "list_insights",
    responses((status = 200, description = "The catalogue.", body = InsightCatalogue))
)]
#[get("/v1/insights")]
async fn list_insights(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    may_read(&caller)?;
    Ok(HttpResponse::Ok().json(InsightCatalogue {
        k: state.settings.insights_k,
        insights: vec![InsightInfo {
            name: LEARNING_PARTICIPATION,
            path: "/v1/insights/learning-participation",
            description: "The share of members who logged learning that started in the period, and the hours per \
                          participant.",
            measures: vec!["people", "participants", "participation_rate", "hours_per_participant"],
            dimensions: Dimension::ALL.iter().map(|d| DimensionInfo { name: d.as_str(), values: d.values() }).collect(),
            default_period: Period::last_closed_quarter(Utc::now().date_naive()).to_string(),
        }],
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
    /// Fewer than `k` people learned, or fewer than `k` did not.
    FewerThanK,
    /// Showing it would let another withheld cell be worked out from the totals.
    ProtectsAnotherCell,
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
    pub group: BTreeMap<&'static str, Option<String>>,
    /// Members counted.
    pub people: Option<i64>,
    /// Of those, members with at least one learning record that started in the period.
    pub participants: Option<i64>,
    /// `participants / people`, three decimals; `null` for a group without people.
    pub participation_rate: Option<f64>,
    /// Hours of the participants' records per participant, one decimal; `null` without
    /// participants, and withheld (`null`) when fewer than `k` of the cell's people logged a
    /// duration or to protect another cell's hours.
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
         "hours_per_participant": null, "suppressed": true, "reason": "fewer_than_k", "hours_suppressed": false}
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
/// people learned and at least `k` did not, or when it is empty; more cells are withheld where a total would
/// let a withheld one be worked out (`reason: protects_another_cell`); a two-way table's
/// margins are exactly the one-way tables. A period's figures are computed once, on the
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
            (String = "text/csv", example = "period,age_band,people,participants,participation_rate,hours_per_participant,suppressed,reason,hours_suppressed\r\n2026-Q3,,640,251,0.392,6.8,false,,false\r\n2026-Q3,55_64,212,87,0.41,7.5,false,,false\r\n2026-Q3,65_plus,,,,,true,fewer_than_k,false\r\n"),
        )),
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
    let today = Utc::now().date_naive();
    let period = match query.period.as_deref() {
        None => Period::last_closed_quarter(today),
        Some(p) => Period::parse(p).map_err(|e| ApiError::BadRequest(format!("`period` {e}.")))?,
    };
    if !period.is_closed(today) {
        return Err(ApiError::BadRequest(format!(
            "`period` {period} is not over yet: figures exist for closed quarters only."
        )));
    }
    let dimensions = parse_by(query.by.as_deref()).map_err(|e| ApiError::BadRequest(format!("`by`: {e}.")))?;
    let snapshot = state.store.learning_participation(period, state.settings.insights_k).await?;
    let k = snapshot.k;
    let values: Vec<Vec<String>> =
        dimensions.iter().map(|d| d.values().into_iter().map(str::to_string).collect()).collect();
    let mut cells = protect(&group_by(&snapshot.breakdown, &dimensions), &values, k);
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
        reason: cell.suppressed.map(|s| match s {
            Suppression::Primary => SuppressionReason::FewerThanK,
            Suppression::Secondary => SuppressionReason::ProtectsAnotherCell,
        }),
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

/// RFC 4180: CRLF line ends; no field here needs quoting (values are fixed names).
fn to_csv(table: &ParticipationTable) -> String {
    let mut out = String::new();
    let mut header: Vec<&str> = vec!["period"];
    header.extend(&table.dimensions);
    header.extend([
        "people",
        "participants",
        "participation_rate",
        "hours_per_participant",
        "suppressed",
        "reason",
        "hours_suppressed",
    ]);
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    let number = |v: Option<String>| v.unwrap_or_default();
    for cell in &table.cells {
        let mut row: Vec<String> = vec![table.period.clone()];
        row.extend(table.dimensions.iter().map(|d| cell.group[d].clone().unwrap_or_default()));
        row.push(number(cell.people.map(|v| v.to_string())));
        row.push(number(cell.participants.map(|v| v.to_string())));
        // Written as in the JSON (`3.0`, not `3`).
        row.push(number(cell.participation_rate.map(|v| serde_json::Value::from(v).to_string())));
        row.push(number(cell.hours_per_participant.map(|v| serde_json::Value::from(v).to_string())));
        row.push(cell.suppressed.to_string());
        row.push(match cell.reason {
            None => String::new(),
            Some(SuppressionReason::FewerThanK) => "fewer_than_k".into(),
            Some(SuppressionReason::ProtectsAnotherCell) => "protects_another_cell".into(),
        });
        row.push(cell.hours_suppressed.to_string());
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
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
