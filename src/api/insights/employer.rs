//! An employer's own view: an organisation's admins read its learning participation beside
//! its sector's, with the network's protection and one rule more (decision 11, rule 5).

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    ParticipationCell, TEXT_CSV, closed_period, csv, participation_header, participation_rows, shown, values_of,
    wants_csv,
};
use crate::api::organisations::no_organisation;
use crate::auth::Caller;
use crate::db::insights::LEARNING_PARTICIPATION;
use crate::domain::insights::disclosure::protect;
use crate::domain::insights::employer::protect_benchmark;
use crate::domain::insights::{Dimension, group_by};
use crate::error::{ApiError, Problem, Result};
use crate::policy::{self, Access, Action, Object};
use crate::state::AppState;

/// Which figures of the organisation.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OwnParticipationQuery {
    /// A closed quarter (`2026-Q3`); default: the last closed quarter.
    #[param(pattern = r"^2[0-9]{3}-Q[1-4]$", example = "2026-Q3")]
    pub period: Option<String>,
    /// `stakeholder_group` or `age_band`; leave it out for the totals only. One dimension:
    /// the benchmark is the network's table by sector and that dimension.
    #[param(pattern = "^(stakeholder_group|age_band)$", example = "age_band")]
    pub by: Option<String>,
}

/// An organisation's learning participation and its sector's.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "insight": "learning_participation",
    "organisation_id": "0190f3c2-7a4e-7cc1-9d2a-5b1e4f6a8c10",
    "sector": "Q",
    "period": "2026-Q3",
    "dimensions": ["age_band"],
    "k": 5,
    "computed_at": "2026-10-01T08:00:00Z",
    "cells": [
        {"group": {"age_band": null}, "people": 212, "participants": 87, "participation_rate": 0.41,
         "hours_per_participant": 7.5, "suppressed": false, "reason": null, "hours_suppressed": false},
        {"group": {"age_band": "55_64"}, "people": 41, "participants": 19, "participation_rate": 0.463,
         "hours_per_participant": 6.1, "suppressed": false, "reason": null, "hours_suppressed": false},
        {"group": {"age_band": "65_plus"}, "people": null, "participants": null, "participation_rate": null,
         "hours_per_participant": null, "suppressed": true, "reason": "withheld_together", "hours_suppressed": false}
    ],
    "benchmark": [
        {"group": {"age_band": null}, "people": 318, "participants": 121, "participation_rate": 0.381,
         "hours_per_participant": 7.2, "suppressed": false, "reason": null, "hours_suppressed": false},
        {"group": {"age_band": "55_64"}, "people": null, "participants": null, "participation_rate": null,
         "hours_per_participant": null, "suppressed": true, "reason": "withheld_together", "hours_suppressed": false}
    ]
}))]
pub struct OwnParticipationTable {
    #[schema(example = "learning_participation")]
    pub insight: &'static str,
    pub organisation_id: Uuid,
    /// The NACE section of the organisation when the figures were computed (`unknown`
    /// without one): the benchmark is this sector's.
    #[schema(example = "Q")]
    pub sector: String,
    #[schema(example = "2026-Q3")]
    pub period: String,
    #[schema(value_type = Vec<String>)]
    pub dimensions: Vec<&'static str>,
    pub k: i64,
    pub computed_at: DateTime<Utc>,
    /// The organisation's own members, the total first: protected as the network's tables
    /// are, so an organisation with few members sees few figures.
    pub cells: Vec<ParticipationCell>,
    /// The sector's figures, the same groups: the network's table by sector cut to this
    /// sector, and withheld (`dominated`) where the sector less this organisation and its
    /// largest other organisation would be about fewer than `k` people on a side.
    pub benchmark: Vec<ParticipationCell>,
}

/// Learning participation of an organisation
///
/// For an organisation's admins: the learning participation of the organisation's members
/// in a closed quarter (the total, or by `stakeholder_group` or `age_band`), beside the same
/// figures for its sector as a benchmark. A member counts for the organisation of their
/// earliest membership in force during the period, as in the network's tables, and the
/// figures are those the network's were computed with, at the same moment.
///
/// **Disclosure control** (decision record 11): the organisation's own cells are protected
/// as the network's tables are (rules 1 to 3), so an employer of 12 sees its own figures only
/// where no cell is too small. The benchmark is the network's table by sector cut to the
/// sector, with its protection, and rule 5 more: a cell is shown only when, less this
/// organisation and less the largest other organisation of the sector, at least `k`
/// participants and `k` others remain (`dominated` otherwise); when an inner cell fails,
/// every inner cell is withheld and the sector's total stands alone. So neither the rest of
/// the sector, nor it less any one other organisation whose admin pools figures with you,
/// is about fewer than `k` people.
///
/// Send `Accept: text/csv` for a spreadsheet: the rows of `cells` and then of `benchmark`,
/// told apart by the `scope` column (`organisation` or `sector`).
#[utoipa::path(
    tag = super::TAG_INSIGHTS,
    operation_id = "get_organisation_learning_participation",
    params(("id" = Uuid, Path, description = "The organisation's id"), OwnParticipationQuery),
    responses(
        (status = 200, description = "The organisation's table and its sector's.", content(
            (OwnParticipationTable = "application/json"),
            (String = "text/csv", example = "period,scope,sector,age_band,people,participants,participation_rate,hours_per_participant,suppressed,reason,hours_suppressed\r\n2026-Q3,organisation,Q,,212,87,0.41,7.5,false,,false\r\n2026-Q3,sector,Q,,318,121,0.381,7.2,false,,false\r\n"),
        )),
        (status = 400, description = "A period not over yet, or a `by` that is not `stakeholder_group` or `age_band`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the organisation's admins read its insights.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or the quarter was computed before organisations' parts were kept.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/organisations/{id}/insights/learning-participation")]
pub(super) async fn own_learning_participation(
    caller: Caller,
    request: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<OwnParticipationQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let why = "Only the organisation's admins read its insights.";
    policy::check(Some(&access), Action::Read, &Object::OrganisationInsights { id }, || no_organisation(id), why)?;
    let query = query.into_inner();
    let period = closed_period(query.period.as_deref())?;
    let dimensions: Vec<Dimension> = match query.by.as_deref() {
        None => vec![],
        Some("stakeholder_group") => vec![Dimension::StakeholderGroup],
        Some("age_band") => vec![Dimension::AgeBand],
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`by`: `{other}` is not offered here; use `stakeholder_group` or `age_band` (one of them)."
            )));
        }
    };
    let snapshot = state.store.learning_participation(period, state.settings.insights_k).await?;
    if !snapshot.by_organisation {
        return Err(ApiError::not_found(format!(
            "The figures of {period} were computed before each organisation's part was kept with them."
        )));
    }
    let shares = state.store.sector_shares(period, id).await.map_err(|e| match e {
        crate::db::StoreError::NotFound => no_organisation(id),
        e => e.into(),
    })?;
    let k = snapshot.k;
    let values = values_of(&dimensions);
    let own = group_by(&shares.own, &dimensions);
    let cells = protect(&own, &values, k);
    // The network's table by these dimensions and the sector, cut to the sector.
    let mut by_sector = dimensions.clone();
    by_sector.push(Dimension::Sector);
    by_sector.sort();
    let at = by_sector.iter().position(|d| *d == Dimension::Sector).expect("the sector is a dimension");
    let network = protect(&group_by(&snapshot.figures, &by_sector), &values_of(&by_sector), k);
    let row = network
        .into_iter()
        .filter(|c| c.key[at].as_deref() == Some(shares.sector.as_str()))
        .map(|mut c| {
            c.key.remove(at);
            c
        })
        .collect();
    let others: Vec<_> = shares.others.iter().map(|b| group_by(b, &dimensions)).collect();
    let benchmark = protect_benchmark(row, &own, &others, k);
    let table = OwnParticipationTable {
        insight: LEARNING_PARTICIPATION,
        organisation_id: id,
        sector: shares.sector,
        period: period.to_string(),
        dimensions: dimensions.iter().map(|d| d.as_str()).collect(),
        k,
        computed_at: snapshot.computed_at,
        cells: shown(&dimensions, &values, cells),
        benchmark: shown(&dimensions, &values, benchmark),
    };
    if wants_csv(&request) {
        let header = participation_header(&["scope", "sector"], &table.dimensions);
        let own = ["organisation", table.sector.as_str()];
        let sector = ["sector", table.sector.as_str()];
        let rows = participation_rows(&own, &table.period, &table.dimensions, &table.cells).chain(participation_rows(
            &sector,
            &table.period,
            &table.dimensions,
            &table.benchmark,
        ));
        return Ok(HttpResponse::Ok().content_type(TEXT_CSV).body(csv(&header, rows)));
    }
    Ok(HttpResponse::Ok().json(table))
}
