//! Learning participation: who learns, and how much, by group (decision 11).

use super::*;

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
pub(super) async fn learning_participation(
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
