//! Themes: the curated taxonomy. Anyone reads; facilitators write.
//!
//! This module is the pattern every resource follows: a list with filters, sort and
//! cursor pages; a single resource with an ETag; create with `Location`; JSON Merge Patch
//! with `If-Match`; delete. Rights are one visible line per handler.

use crate::api::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::rights::Role;
use crate::auth::{Caller, MaybeCaller};
use crate::db::Found;
use crate::db::StoreError;
use crate::db::feed::feed_resource;
use crate::db::themes::{ThemeFilter, ThemeSort};
use crate::domain::theme::{self, Theme, ThemeContent, ThemeInput};
use crate::domain::validation::merge;
use crate::error::{ApiError, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, parse_q, respond_page, sort_schema};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_themes).service(create_theme).service(get_theme).service(update_theme).service(delete_theme);
}

/// A theme.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "slug": "informal-learning",
    "label_nl": "Informeel leren",
    "label_en": "Informal learning",
    "description": "Leren op de werkvloer, met collega's en in de leeromgeving: buiten opleidingen om.",
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "version": 1
}))]
pub struct ThemeView {
    pub id: Uuid,
    /// Stable, URL-safe name.
    pub slug: String,
    /// Dutch label.
    pub label_nl: String,
    /// English label.
    pub label_en: String,
    /// What the theme covers.
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; the `ETag` is this number in quotes.
    pub version: i64,
}

feed_resource!(Theme, Theme, |t| ThemeView::from(t.clone()));

impl From<Theme> for ThemeView {
    fn from(t: Theme) -> Self {
        Self {
            id: t.id,
            slug: t.slug.as_str().to_string(),
            label_nl: t.label_nl,
            label_en: t.label_en,
            description: t.description,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

/// A new theme.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "careers-at-every-age",
    "label_nl": "Loopbanen op elke leeftijd",
    "label_en": "Careers at every age",
    "description": "Olijfboomloopbanen in plaats van citroenloopbanen: ontwikkeling is van alle leeftijden."
}))]
pub struct NewTheme {
    /// Lowercase letters and digits in groups joined by single hyphens; unique.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
    pub slug: String,
    /// Dutch label, 1 to 120 characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub label_nl: String,
    /// English label, 1 to 120 characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub label_en: String,
    /// At most 2000 characters; empty means none.
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<String>,
}

/// Changes to a theme, as a JSON Merge Patch (RFC 7396): members present are replaced,
/// `description: null` removes the description.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label_en": "Careers at any age"}))]
pub struct ThemePatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64, nullable = false)]
    pub slug: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 120, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$", nullable = false)]
    pub label_nl: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 120, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$", nullable = false)]
    pub label_en: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub description: Option<Option<String>>,
}

impl ThemePatch {
    fn apply(self, mut input: ThemeInput) -> ThemeInput {
        if let Some(Some(v)) = self.slug {
            input.slug = v;
        }
        if let Some(Some(v)) = self.label_nl {
            input.label_nl = v;
        }
        if let Some(Some(v)) = self.label_en {
            input.label_en = v;
        }
        merge(self.description, &mut input.description);
        input
    }
}

/// Filters, sort and page of the theme list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThemeListQuery {
    /// Words in the slug or labels; case and diacritics are ignored (`een` finds `Één`). For example `leren`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Sort field; prefix `-` for descending. Default `slug`.
    #[param(schema_with = theme_sort_schema)]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

fn theme_sort_schema() -> utoipa::openapi::Object {
    sort_schema::<ThemeSort>()
}

fn no_theme(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No theme with id {id}."))
}

/// List themes
///
/// The curated themes, filtered by `q`, sorted by `sort`, a page at a time. Open to
/// everyone, also without a token.
#[utoipa::path(
    tag = "Themes",
    operation_id = "list_themes",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(ThemeListQuery),
    responses((status = 200, description = "A page of themes.", body = ListResponse<ThemeView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/themes")]
async fn list_themes(
    req: HttpRequest,
    _caller: MaybeCaller,
    query: web::Query<ThemeListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let q = parse_q(query.q.as_deref(), 200)?;
    let page_req = PageRequest::<ThemeSort>::parse(
        &state.cursors,
        format!("themes?q={}", q.as_deref().unwrap_or_default()),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    let page =
        state.store.list_themes(&ThemeFilter { q }, page_req.sort, page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, ThemeView::from))
}

/// Create a theme
///
/// Adds a theme to the taxonomy. Facilitators only. Answers `201` with the theme, its
/// `Location` and `ETag`.
#[utoipa::path(
    tag = "Themes",
    operation_id = "create_theme",
    request_body = NewTheme,
    responses(
        (status = 201, description = "Created.", body = ThemeView,
            headers(("Location" = String, description = "The new theme's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only facilitators curate themes.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A theme with this slug exists (or the Idempotency-Key is in use).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/themes")]
async fn create_theme(caller: Caller, body: Json<NewTheme>, state: web::Data<AppState>) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let body = body.0;
    let content = ThemeContent::parse(ThemeInput {
        slug: body.slug,
        label_nl: body.label_nl,
        label_en: body.label_en,
        description: body.description,
    })?;
    let theme = state.store.create_theme(&content).await?;
    Ok(created(format!("/v1/themes/{}", theme.id), theme.version, &ThemeView::from(theme)))
}

/// Get a theme
///
/// One theme with its `ETag`. Send `If-None-Match` with the ETag you have to get `304`
/// when it has not changed. Open to everyone.
#[utoipa::path(
    tag = "Themes",
    operation_id = "get_theme",
    security((), ("oauth2" = []), ("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The theme's id"),
        IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The theme.", body = ThemeView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/themes/{id}")]
async fn get_theme(
    req: HttpRequest,
    _caller: MaybeCaller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let theme = state.store.get_theme(id).await.or_not_found(|| no_theme(id))?;
    Ok(respond_tagged(&req, theme.version, &ThemeView::from(theme)))
}

/// Update a theme
///
/// Changes a theme with a JSON Merge Patch (RFC 7396). Facilitators only. Send `If-Match`
/// with the ETag you read so that a concurrent change is never overwritten: a stale ETag
/// answers `412` with the current one.
#[utoipa::path(
    tag = "Themes",
    operation_id = "update_theme",
    params(
        ("id" = Uuid, Path, description = "The theme's id"),
        IfMatch,
    ),
    request_body(content = ThemePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = ThemeView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only facilitators curate themes.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another theme has this slug, or organisations use the current slug (a slug in use does not change).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The theme changed since the ETag in `If-Match`.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/themes/{id}")]
async fn update_theme(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<ThemePatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let id = id.into_inner();
    let patch = body.0;
    theme::check_patch(
        patch.slug.as_ref().map(Option::as_deref),
        patch.label_nl.as_ref().map(Option::as_deref),
        patch.label_en.as_ref().map(Option::as_deref),
        patch.description.as_ref().map(Option::as_deref),
    )?;
    // Without If-Match the client asked for last-write-wins: retry when another write
    // slips in between our read and our write. With If-Match, a change in between is a 412.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let current = state.store.get_theme(id).await.or_not_found(|| no_theme(id))?;
        if_match.check(current.version)?;
        let input = ThemePatch {
            slug: patch.slug.clone(),
            label_nl: patch.label_nl.clone(),
            label_en: patch.label_en.clone(),
            description: patch.description.clone(),
        }
        .apply(current.to_input());
        let content = ThemeContent::parse(input)?;
        if content == current.content() {
            return Ok(tagged(current.version, &ThemeView::from(current)));
        }
        match state.store.update_theme(id, current.version, &content).await {
            Ok(theme) => {
                return Ok(tagged(theme.version, &ThemeView::from(theme)));
            }
            Err(StoreError::VersionMismatch { .. }) if if_match.is_absent() && attempts < 3 => continue,
            Err(StoreError::VersionMismatch { .. }) if if_match.is_absent() => {
                return Err(ApiError::conflict("The theme is being changed by others right now; retry.", None));
            }
            Err(e) => return Err(e).or_not_found(|| no_theme(id)),
        }
    }
}

/// Delete a theme
///
/// Removes a theme. Facilitators only. A theme that organisations use stays until it is
/// off their themes (409). `If-Match` makes the delete conditional on the version you read.
#[utoipa::path(
    tag = "Themes",
    operation_id = "delete_theme",
    params(
        ("id" = Uuid, Path, description = "The theme's id"),
        IfMatch,
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only facilitators curate themes.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Organisations use this theme; take it off their themes first.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The theme changed since the ETag in `If-Match`.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/themes/{id}")]
async fn delete_theme(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let id = id.into_inner();
    let expected = if if_match.is_absent() {
        None
    } else {
        let current = state.store.get_theme(id).await.or_not_found(|| no_theme(id))?;
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_theme(id, expected).await.or_not_found(|| no_theme(id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_replaces_present_members_and_null_clears() {
        let base = ThemeInput {
            slug: "a-b".into(),
            label_nl: "nl".into(),
            label_en: "en".into(),
            description: Some("d".into()),
        };
        let patch: ThemePatch = serde_json::from_str(r#"{"label_en":"EN","description":null}"#).unwrap();
        let out = patch.apply(base.clone());
        assert_eq!(out.label_en, "EN");
        assert_eq!(out.label_nl, "nl");
        assert_eq!(out.description, None);
        let patch: ThemePatch = serde_json::from_str("{}").unwrap();
        assert_eq!(patch.apply(base).description.as_deref(), Some("d"));
    }
}
