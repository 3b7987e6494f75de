//! Whether a person is counted in the insights (their choice).

use super::*;

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
pub(super) async fn get_insights_consent(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
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
pub(super) async fn put_insights_consent(
    caller: Caller,
    body: web::Json<InsightsConsent>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let me = people_only(&caller)?;
    state.store.set_counted_in_insights(me, body.counted_in_insights).await.map_err(account_gone)?;
    Ok(HttpResponse::Ok().json(InsightsConsent { counted_in_insights: body.counted_in_insights }))
}
