//! Shared solutions: challenges, published solutions, endorsements and adoptions by sector.

use super::*;

/// The dimension shared solutions break down by.
pub(super) const SECTOR: &str = "sector";

pub(super) const SOLUTION_MEASURES: [&str; 6] =
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
pub(super) async fn shared_solutions(
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
