//! Organisations: the stakeholders of the network. Every signed-in caller reads them;
//! facilitators create and delete them; an organisation's admins edit it.

use crate::api::Routes;
use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::auth::access::Access;
use crate::auth::rights::Role;
use crate::db::Found;
use crate::db::feed::feed_resource;
use crate::db::organisations::{OrganisationFilter, OrganisationSort};
use crate::db::refs::{ExternalRef, Upserted};
use crate::domain::organisation::{
    Organisation, OrganisationContent, OrganisationInput, OrganisationKind, Region, SizeBand, parse_nace,
};
use crate::domain::validation::merge;
use crate::domain::{FieldError, Invalid};
use crate::error::{ApiError, Problem, Result};
use crate::http::conditional::{IfMatch, IfNoneMatch, created, etag, respond_tagged, tagged};
use crate::http::json::Json;
use crate::http::pagination::{ListResponse, PageRequest, parse_q, respond_page, sort_schema};
use crate::policy::{self, Action, Object};
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(list_organisations)
        .service(create_organisation)
        .service(upsert_organisation_by_ref)
        .service(get_organisation)
        .service(update_organisation)
        .service(delete_organisation);
}

/// The header that says what an upsert did: `created`, `updated` or `unchanged`.
pub const UPSERT_RESULT: HeaderName = HeaderName::from_static("upsert-result");

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "name": "Zorgnet Kempen",
    "kind": "employer",
    "enterprise_number": "0123456749",
    "sector": "86.10",
    "size_band": "large",
    "region": "antwerp",
    "website": "https://www.zorgnetkempen.example/",
    "themes": ["older-workers", "workplace-learning"],
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "version": 1
}))]
pub struct OrganisationView {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    /// Belgian enterprise number (KBO/BCE), ten digits.
    pub enterprise_number: Option<String>,
    /// NACE-BEL activity code.
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    pub website: Option<String>,
    /// Theme slugs.
    pub themes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl From<&Organisation> for OrganisationView {
    fn from(o: &Organisation) -> Self {
        let c = &o.content;
        Self {
            id: o.id,
            name: c.name.clone(),
            kind: c.kind,
            enterprise_number: c.enterprise_number.as_ref().map(|e| e.as_str().to_string()),
            sector: c.sector.clone(),
            size_band: c.size_band,
            region: c.region,
            website: c.website.clone(),
            themes: c.themes.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            version: o.version,
        }
    }
}

feed_resource!(Organisation, Organisation, |o| OrganisationView::from(o));

/// A new organisation (also the full content that `PUT .../by-ref/...` replaces).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Zorgnet Kempen",
    "kind": "employer",
    "enterprise_number": "0123.456.749",
    "sector": "86.10",
    "size_band": "large",
    "region": "antwerp",
    "website": "https://www.zorgnetkempen.example",
    "themes": ["older-workers"]
}))]
pub struct NewOrganisation {
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    pub kind: OrganisationKind,
    /// Belgian enterprise number; dots, spaces and a `BE` prefix are accepted. Checked with
    /// its modulo-97 check digits. Unique.
    #[schema(example = "0123.456.749", pattern = r"^(BE ?)?[01][0-9]{3}[. ]?[0-9]{3}[. ]?[0-9]{3}$")]
    pub enterprise_number: Option<String>,
    /// NACE-BEL code: section (`P`), division (`85`), group (`85.5`), class (`85.59`) or subclass (`85.592`).
    #[schema(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    /// An absolute `http` or `https` URL.
    #[schema(
        max_length = 300,
        pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$"
    )]
    pub website: Option<String>,
    /// Slugs of existing themes, at most 20 (an unknown one is a 404 pointing at it).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<ThemeSlug>,
}

impl From<NewOrganisation> for OrganisationInput {
    fn from(b: NewOrganisation) -> Self {
        OrganisationInput {
            name: b.name,
            kind: b.kind,
            enterprise_number: b.enterprise_number,
            sector: b.sector,
            size_band: b.size_band,
            region: b.region,
            website: b.website,
            themes: b.themes.into_iter().map(|t| t.0).collect(),
        }
    }
}

/// A theme's slug.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 64, example = "older-workers")]
pub struct ThemeSlug(pub String);

/// Changes to an organisation, as a JSON Merge Patch (RFC 7396): members present are
/// replaced; `null` removes an optional member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"size_band": "medium", "website": null}))]
pub struct OrganisationPatch {
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\x00-\x1F\x7F-\x9F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<OrganisationKind>, nullable = false)]
    pub kind: Option<Option<OrganisationKind>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^(BE ?)?[01][0-9]{3}[. ]?[0-9]{3}[. ]?[0-9]{3}$")]
    pub enterprise_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<SizeBand>)]
    pub size_band: Option<Option<SizeBand>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Region>)]
    pub region: Option<Option<Region>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Vec<ThemeSlug>>, nullable = false, max_items = 20)]
    pub themes: Option<Option<Vec<ThemeSlug>>>,
}

/// The error for `null` on a member that cannot be removed.
impl OrganisationPatch {
    fn apply(self, mut input: OrganisationInput) -> std::result::Result<OrganisationInput, Invalid> {
        let mut inv = Invalid::default();
        inv.required("/name", self.name, &mut input.name);
        inv.required("/kind", self.kind, &mut input.kind);
        match self.themes {
            Some(Some(v)) => input.themes = v.into_iter().map(|t| t.0).collect(),
            Some(None) => inv.errors.push(FieldError::cannot_remove("/themes")),
            None => {}
        }
        merge(self.enterprise_number, &mut input.enterprise_number);
        merge(self.sector, &mut input.sector);
        merge(self.size_band, &mut input.size_band);
        merge(self.region, &mut input.region);
        merge(self.website, &mut input.website);
        inv.finish(|| input)
    }
}

/// Filters, sort and page of the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationListQuery {
    /// Only organisations of this kind.
    pub kind: Option<OrganisationKind>,
    /// Only organisations in this NACE section, division, group or class (`85` also finds `85.59`). For example `85`.
    #[param(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$")]
    pub sector: Option<String>,
    /// Only organisations in this region.
    pub region: Option<Region>,
    /// Words in the name, or the enterprise number; case and accents are ignored. For example `zorg`.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Sort field; prefix `-` for descending. Default `name`.
    #[param(schema_with = organisation_sort_schema)]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

fn organisation_sort_schema() -> utoipa::openapi::Object {
    sort_schema::<OrganisationSort>()
}

fn no_organisation(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No organisation with id {id}."))
}

/// Validates content and checks that its themes exist.
async fn validated(state: &AppState, input: OrganisationInput) -> Result<OrganisationContent> {
    let content = OrganisationContent::parse(input)?;
    let missing = state.store.missing_theme_slugs(&content.themes).await?;
    if let Some(first) = missing.first() {
        // A reference to something that does not exist, like a path to it: 404.
        let index = content.themes.iter().position(|t| t == first).unwrap_or(0);
        return Err(ApiError::MissingReference {
            detail: format!("No theme with slug `{first}`."),
            pointer: format!("/themes/{index}"),
        });
    }
    Ok(content)
}

/// List organisations
///
/// The network's organisations, filtered by kind, sector, region and `q`, a page at a time.
/// Every signed-in caller may read them.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "list_organisations",
    params(OrganisationListQuery),
    responses((status = 200, description = "A page of organisations.", body = ListResponse<OrganisationView>,
        headers(("Link" = String, description = "`<...>; rel=\"next\"` when there is a next page"))))
)]
#[get("/v1/organisations")]
async fn list_organisations(
    req: HttpRequest,
    _caller: Caller,
    query: web::Query<OrganisationListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let sector = query
        .sector
        .as_deref()
        .map(parse_nace)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("`sector` {e}.")))?;
    let q = parse_q(query.q.as_deref(), 200)?;
    let filter = OrganisationFilter { kind: query.kind, sector, region: query.region, q };
    let page_req = PageRequest::<OrganisationSort>::parse(
        &state.cursors,
        format!("organisations?{filter:?}"),
        query.limit,
        query.sort.as_deref(),
        query.cursor.as_deref(),
    )?;
    let page = state.store.list_organisations(&filter, page_req.sort, page_req.after.as_ref(), page_req.limit).await?;
    Ok(respond_page(&req, &state.cursors, &page_req, page, |o| OrganisationView::from(&o)))
}

/// Create an organisation
///
/// Adds an organisation to the network. Facilitators only.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "create_organisation",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Created.", body = OrganisationView,
            headers(("Location" = String, description = "The new organisation's URL"), ("ETag" = String, description = "The version, quoted"))),
        (status = 403, description = "Only facilitators add organisations.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A theme named in `themes` does not exist.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An organisation with this enterprise number exists.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/organisations")]
async fn create_organisation(
    caller: Caller,
    body: Json<NewOrganisation>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let content = validated(&state, body.0.into()).await?;
    let org = state.store.create_organisation(&content, None).await?;
    Ok(created(format!("/v1/organisations/{}", org.id), org.version, &OrganisationView::from(&org)))
}

/// Get an organisation
///
/// One organisation with its `ETag`; `If-None-Match` gives `304` while it is unchanged.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "get_organisation",
    params(("id" = Uuid, Path, description = "The organisation's id"), IfNoneMatch),
    responses(
        (status = 200, description = "The organisation.", body = OrganisationView, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`."),
    )
)]
#[get("/v1/organisations/{id}")]
async fn get_organisation(
    req: HttpRequest,
    _caller: Caller,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let org = state.store.get_organisation(id).await.or_not_found(|| no_organisation(id))?;
    Ok(respond_tagged(&req, org.version, &OrganisationView::from(&org)))
}

/// Update an organisation
///
/// Changes an organisation with a JSON Merge Patch (RFC 7396). Facilitators, and admins of
/// this organisation. Send `If-Match` with the ETag you read: a stale one answers `412`.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "update_organisation",
    params(("id" = Uuid, Path, description = "The organisation's id"), IfMatch),
    request_body(content = OrganisationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated.", body = OrganisationView, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, description = "Only facilitators and this organisation's admins edit it.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organisation has this enterprise number.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The organisation changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/organisations/{id}")]
async fn update_organisation(
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<OrganisationPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let id = id.into_inner();
    let access = Access::of(&caller);
    let current = state.store.get_organisation(id).await.or_not_found(|| no_organisation(id))?;
    let why = "Only facilitators and this organisation's admins edit it.";
    policy::check(Some(&access), Action::Change, &Object::Organisation { id }, || no_organisation(id), why)?;
    let content = validated(&state, body.0.apply(current.content.to_input())?).await?;
    if_match.check(current.version)?;
    if content == current.content {
        return Ok(tagged(current.version, &OrganisationView::from(&current)));
    }
    let org =
        state.store.update_organisation(id, current.version, &content).await.or_not_found(|| no_organisation(id))?;
    Ok(tagged(org.version, &OrganisationView::from(&org)))
}

/// Delete an organisation
///
/// Removes an organisation that has no memberships left, and revokes its integration
/// clients. Facilitators only.
#[utoipa::path(
    tag = "Stakeholders",
    operation_id = "delete_organisation",
    params(("id" = Uuid, Path, description = "The organisation's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Only facilitators delete organisations.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation still has memberships.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The organisation changed since the ETag in `If-Match`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/organisations/{id}")]
async fn delete_organisation(
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
        let current = state.store.get_organisation(id).await.or_not_found(|| no_organisation(id))?;
        if_match.check(current.version)?;
        Some(current.version)
    };
    state.store.delete_organisation(id, expected).await.or_not_found(|| no_organisation(id))?;
    Ok(HttpResponse::NoContent().finish())
}

/// The `{system}/{external_id}` of an upsert path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RefPath {
    /// The external system, such as `crm` or `sdworx`.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "crm")]
    pub system: String,
    /// The resource's id in that system.
    #[param(pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "ORG-0042")]
    pub external_id: String,
}

/// The `{id}/.../{system}/{external_id}` of an organisation's by-reference path: the
/// organisation and its system's reference.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgRefPath {
    /// The organisation's id.
    pub id: Uuid,
    /// The external system, such as `crm` or `sdworx`.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", example = "sdworx")]
    pub system: String,
    /// The resource's id in that system.
    #[param(pattern = r"^[^\x00-\x1F\x7F-\x9F/]{1,200}$", example = "EMP-00042")]
    pub external_id: String,
}

impl OrgRefPath {
    /// The organisation and the validated reference.
    pub fn parse(&self) -> Result<(Uuid, ExternalRef)> {
        Ok((self.id, RefPath { system: self.system.clone(), external_id: self.external_id.clone() }.parse()?))
    }
}

/// An id one of your organisations' systems keeps for a resource: its reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"organisation_id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "system": "sdworx", "id": "E-10442"}))]
pub struct OrganisationRef {
    /// The organisation whose system keeps the reference.
    pub organisation_id: Uuid,
    /// The system, such as `sdworx`.
    #[schema(example = "sdworx")]
    pub system: String,
    /// The resource's id in that system.
    #[schema(example = "E-10442")]
    pub id: String,
}

/// The references that the caller's own organisations keep for `resources`, by resource:
/// for the admins of an organisation and its clients that read its people, the
/// organisation's references; for everyone else (facilitators included) none, since a
/// reference is an organisation's own business.
pub async fn own_refs(
    state: &AppState,
    access: &Access,
    resources: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<OrganisationRef>>> {
    own_refs_in(&state.store, access, resources).await
}

/// [`own_refs`] read through `store` (the webhook worker's, whose checkouts are its own).
pub async fn own_refs_in(
    store: &crate::db::Store,
    access: &Access,
    resources: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<OrganisationRef>>> {
    let mut by_resource: std::collections::HashMap<Uuid, Vec<OrganisationRef>> = Default::default();
    let Some(organisations) = access.readable_organisations().filter(|o| !o.is_empty()) else {
        return Ok(by_resource);
    };
    for (resource, organisation_id, r) in store.refs_of(resources, Some(&organisations)).await? {
        by_resource.entry(resource).or_default().push(OrganisationRef { organisation_id, system: r.system, id: r.id });
    }
    Ok(by_resource)
}

/// A view that shows the caller's own references to its resource.
pub trait WithRefs {
    fn resource_id(&self) -> Uuid;
    fn set_refs(&mut self, refs: Vec<OrganisationRef>);
}

/// Fills in the caller's own references on `views` (one query).
pub async fn add_own_refs<T: WithRefs>(state: &AppState, access: &Access, views: &mut [T]) -> Result<()> {
    let ids: Vec<Uuid> = views.iter().map(WithRefs::resource_id).collect();
    let mut refs = own_refs(state, access, &ids).await?;
    for view in views {
        if let Some(r) = refs.remove(&view.resource_id()) {
            view.set_refs(r);
        }
    }
    Ok(())
}

/// No `what` with this reference in the organisation (404).
pub fn no_ref(what: &str, reference: &ExternalRef) -> ApiError {
    ApiError::not_found(format!("No {what} with the reference `{}` in `{}`.", reference.id, reference.system))
}

/// A by-ref read's answer: the resource with its `ETag`, and where it lives by our id.
pub fn read_back(req: &HttpRequest, location: String, version: i64, body: &impl Serialize) -> HttpResponse {
    let mut res = respond_tagged(req, version, body);
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::CONTENT_LOCATION, value);
    }
    res
}

impl RefPath {
    pub fn parse(&self) -> Result<ExternalRef> {
        ExternalRef::parse(&self.system, &self.external_id, "#/path")
            .map_err(|inv| ApiError::BadRequest(format!("The path is not valid: {}.", inv.errors[0].detail)))
    }
}

/// The status and headers of an upsert's answer.
pub fn upserted(result: Upserted) -> actix_web::HttpResponseBuilder {
    let mut res = match result {
        Upserted::Created => HttpResponse::Created(),
        Upserted::Updated | Upserted::Unchanged => HttpResponse::Ok(),
    };
    res.insert_header((
        UPSERT_RESULT,
        match result {
            Upserted::Created => "created",
            Upserted::Updated => "updated",
            Upserted::Unchanged => "unchanged",
        },
    ));
    res
}

/// Create or replace an organisation by external reference
///
/// Creates the organisation your system knows as `{system}/{external_id}`, or replaces its
/// content (this is a `PUT`: members left out are cleared). Answers `201` when it was
/// created and `200` otherwise; the `Upsert-Result` header says `created`, `updated` or
/// `unchanged`. Safe to repeat. Facilitators only (references to organisations are kept by
/// the network).
#[utoipa::path(
    tag = "Sync",
    operation_id = "upsert_organisation_by_ref",
    params(RefPath),
    request_body = NewOrganisation,
    responses(
        (status = 200, description = "Updated or unchanged.", body = OrganisationView,
            headers(("Upsert-Result" = String, description = "`updated` or `unchanged`"), ("ETag" = String, description = "The version, quoted"))),
        (status = 201, description = "Created.", body = OrganisationView,
            headers(("Upsert-Result" = String, description = "`created`"), ("Location" = String, description = "The organisation's URL"))),
        (status = 403, description = "Only facilitators upsert organisations.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A theme named in `themes` does not exist.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organisation has this enterprise number.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/organisations/by-ref/{system}/{external_id}")]
async fn upsert_organisation_by_ref(
    caller: Caller,
    path: web::Path<RefPath>,
    body: Json<NewOrganisation>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    caller.require_role(Role::Facilitator)?;
    let reference = path.parse()?;
    let content = validated(&state, body.0.into()).await?;
    let (org, result) = state.store.upsert_organisation_by_ref(&reference, &content).await?;
    Ok(upserted(result)
        .insert_header((header::LOCATION, format!("/v1/organisations/{}", org.id)))
        .insert_header((header::ETAG, etag(org.version)))
        .json(OrganisationView::from(&org)))
}
