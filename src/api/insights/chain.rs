//! Event to action: from registration to a proven commitment, by event format.

use super::*;

/// The dimension event to action breaks down by.
pub(super) const FORMAT: &str = "format";

/// The conversion rates, each the share of a step in its base step.
pub(super) const RATES: [&str; 4] = ["attendance_rate", "commitment_rate", "done_rate", "proven_rate"];

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
pub(super) async fn event_to_action(
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
