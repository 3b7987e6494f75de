//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2`: identity providers (Entra ID, Okta, ...)
//! provision an organisation's people with no code of their own (decision 13).
//!
//! One credential is one organisation: an integration client with the `scim` scope, by an
//! access token or by the static SCIM token its organisation's admin made for it. A SCIM
//! user is a person with a membership of that organisation ([`crate::db::people`] keeps
//! what the provider says beyond the person), so a person synced by SCIM and by the batch
//! endpoints is one person. Answers are `application/scim+json`, errors the SCIM error
//! schema with `scimType`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::Routes;
use crate::auth::rights::Scope;
use crate::auth::{Subject, scim_caller};
use crate::db::{Rule, StoreError};
use crate::error::ApiError;
use crate::scim::discovery;
use crate::scim::filter;
use crate::scim::messages::{self, MEDIA_TYPE, Page, ScimType};
use crate::scim::patch;
use crate::scim::user;

mod groups;
mod users;

pub const TAG_SCIM: &str = "SCIM";
/// Where SCIM lives, below the service's address.
pub const BASE_PATH: &str = "/scim/v2";

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(service_provider_config)
        .service(resource_types)
        .service(resource_type)
        .service(list_schemas)
        .service(get_schema)
        .service(users::list_users)
        .service(users::search_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::replace_user)
        .service(users::patch_user)
        .service(users::delete_user)
        .service(groups::list_groups)
        .service(groups::search_groups)
        .service(groups::create_group)
        .service(groups::get_group)
        .service(groups::replace_group)
        .service(groups::patch_group)
        .service(groups::delete_group)
        .service(search_all);
}

// ---- errors ----

/// An error in the SCIM error schema (RFC 7644 §3.12).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
    "status": "409",
    "scimType": "uniqueness",
    "detail": "The userName \"an.peeters@example.be\" is another user's in this organisation."
}))]
pub struct ScimErrorBody {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    pub schemas: Vec<String>,
    /// The HTTP status, as a string.
    pub status: String,
    /// For a `400` or `409`: `invalidFilter`, `tooMany`, `uniqueness`, `mutability`,
    /// `invalidSyntax`, `invalidPath`, `noTarget`, `invalidValue` or `sensitive`.
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    /// What went wrong, and what to do about it.
    pub detail: String,
}

/// An error in the SCIM error schema (RFC 7644 §3.12).
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<ScimType>,
    detail: String,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// An error of `status` without a `scimType`.
    pub(crate) fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new(status, None, detail)
    }

    fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    fn not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, format!("No user with id {id:?} in this organisation."))
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.content_type(MEDIA_TYPE);
        match self.status {
            StatusCode::UNAUTHORIZED => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\", error=\"invalid_token\""));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        res.body(messages::error(self.status.as_u16(), self.scim_type, &self.detail).to_string())
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        let status = e.status_code();
        if status.is_server_error() {
            // Logged, with the request id, by the one place that logs server errors.
            tracing::error!(error = ?e, "SCIM request failed");
        }
        Self::new(status, None, e.problem().detail)
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(c) => {
                let unique = matches!(
                    c.rule,
                    Rule::UserNameTaken | Rule::GroupNameTaken | Rule::EmailTaken | Rule::ReferenceTaken | Rule::Unique
                );
                Self::new(StatusCode::CONFLICT, unique.then_some(ScimType::Uniqueness), c.detail)
            }
            StoreError::VersionMismatch { current } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                format!("If-Match does not name the current version; it is {}.", user::etag(current)),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

impl From<patch::Error> for ScimError {
    fn from(e: patch::Error) -> Self {
        Self::bad(e.scim_type, e.detail)
    }
}

type ScimResult<T> = Result<T, ScimError>;

// ---- who is calling ----

/// The organisation a SCIM credential stands for.
struct Provisioner {
    organisation: Uuid,
}

async fn provisioner(req: &HttpRequest) -> ScimResult<Provisioner> {
    let caller = scim_caller(req).await?.ok_or_else(|| {
        ScimError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "This needs `Authorization: Bearer <token>`: \
             a SCIM token, or an access token of an integration client with the `scim` scope.",
        )
    })?;
    match (caller.subject, caller.organisation_id) {
        (Subject::Client(_), Some(organisation)) if caller.scopes.contains(&Scope::Scim) => {
            Ok(Provisioner { organisation })
        }
        _ => Err(ScimError::new(
            StatusCode::FORBIDDEN,
            None,
            "SCIM is for an organisation's integration client with the `scim` scope.",
        )),
    }
}

// ---- the wire ----

/// The SCIM base URL of this request (`https://host/scim/v2`), for `meta.location`.
fn base(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}{BASE_PATH}", info.scheme(), info.host())
}

fn answer(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status).content_type(MEDIA_TYPE).body(body.to_string())
}

/// A body in `application/scim+json` or `application/json` (or with no type), as JSON.
fn read(req: &HttpRequest, body: &[u8]) -> ScimResult<Value> {
    if let Some(kind) = req.headers().get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if kind != MEDIA_TYPE && kind != "application/json" {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "Send the body as `application/scim+json` (or `application/json`).",
            ));
        }
    }
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("The body is not JSON: {e}.")))
}

/// What `If-Match` asks: `None` without one or with `*`, else the versions its tags name.
/// SCIM versions are weak tags (`W/"3"`), compared weakly, as RFC 7644 §3.14 has them; a
/// tag that is none of ours names no version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IfMatch(Option<Vec<i64>>);

impl IfMatch {
    /// The version a write must find, given the current one: `None` when `If-Match` asks
    /// for none, the current one when it names it, `412` when it does not.
    pub(super) fn pin(&self, current: i64) -> ScimResult<Option<i64>> {
        match &self.0 {
            None => Ok(None),
            Some(versions) if versions.contains(&current) => Ok(Some(current)),
            Some(_) => Err(StoreError::VersionMismatch { current }.into()),
        }
    }

    pub(super) fn is_absent(&self) -> bool {
        self.0.is_none()
    }
}

fn if_match(headers: &HeaderMap) -> IfMatch {
    let Some(value) = headers.get(header::IF_MATCH) else { return IfMatch(None) };
    let value = value.to_str().unwrap_or_default().trim();
    if value == "*" {
        return IfMatch(None);
    }
    IfMatch(Some(
        value
            .split(',')
            .filter_map(|t| {
                let t = t.trim();
                t.strip_prefix("W/").unwrap_or(t).strip_prefix('"')?.strip_suffix('"')?.parse().ok()
            })
            .collect(),
    ))
}

// ---- lists ----

/// A query of a list (RFC 7644 §3.4.2), in the URL or in a `.search` body.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A filter (RFC 7644 §3.4.2.2): `userName eq "an.peeters@example.be"`,
    /// `emails[type eq "work" and value co "@example.be"]`, `active eq false`, ...
    #[param(example = "userName eq \"an.peeters@example.be\"")]
    pub filter: Option<String>,
    /// The first result, counting from 1 (RFC 7644 §3.4.2.4: below 1 reads as 1).
    #[param(example = 1)]
    pub start_index: Option<i64>,
    /// At most this many: up to 200 (more reads as 200, a negative number as 0).
    #[param(example = 100)]
    pub count: Option<i64>,
    /// Only these attributes (comma-separated); `id` and `schemas` always come.
    #[param(example = "userName,active")]
    pub attributes: Option<String>,
    /// Not these attributes (comma-separated).
    #[param(example = "groups")]
    pub excluded_attributes: Option<String>,
    /// Not supported (sorting is not advertised): ignored.
    pub sort_by: Option<String>,
    /// Not supported: ignored.
    pub sort_order: Option<String>,
}

impl ListQuery {
    /// The query of a `SearchRequest` body (RFC 7644 §3.4.3).
    pub(super) fn from_search(body: &Value) -> ScimResult<Self> {
        let mut query = ListQuery::default();
        let Some(object) = body.as_object() else {
            return Err(ScimError::bad(ScimType::InvalidSyntax, "The body is not a JSON object."));
        };
        let text = |v: &Value, name: &str| -> ScimResult<Option<String>> {
            match v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                Value::Array(list) if name != "filter" => Ok(Some(
                    list.iter()
                        .map(|s| s.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, format!("`{name}` must list strings.")))?
                        .join(","),
                )),
                _ => Err(ScimError::bad(ScimType::InvalidValue, format!("`{name}` must be a string."))),
            }
        };
        let number = |v: &Value, name: &str| -> ScimResult<Option<i64>> {
            match v {
                Value::Null => Ok(None),
                v => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, format!("`{name}` must be a whole number."))),
            }
        };
        for (key, value) in object {
            match key.to_ascii_lowercase().as_str() {
                "schemas" | "sortby" | "sortorder" => {}
                "filter" => query.filter = text(value, "filter")?,
                "attributes" => query.attributes = text(value, "attributes")?,
                "excludedattributes" => query.excluded_attributes = text(value, "excludedAttributes")?,
                "startindex" => query.start_index = number(value, "startIndex")?,
                "count" => query.count = number(value, "count")?,
                _ => {
                    return Err(ScimError::bad(
                        ScimType::InvalidSyntax,
                        format!("`{key}` is not part of a SearchRequest."),
                    ));
                }
            }
        }
        Ok(query)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Projection {
    /// Only these attributes (comma-separated); `id` and `schemas` always come.
    #[param(example = "userName,active")]
    pub attributes: Option<String>,
    /// Not these attributes (comma-separated).
    #[param(example = "groups")]
    pub excluded_attributes: Option<String>,
}

impl ListQuery {
    /// The `attributes` and `excludedAttributes` asked for.
    pub(super) fn projection(&self) -> ScimResult<(Vec<filter::AttrPath>, Vec<filter::AttrPath>)> {
        projection(self.attributes.as_deref(), self.excluded_attributes.as_deref())
    }

    /// The `filter` asked for, parsed; `None` without one.
    pub(super) fn parsed_filter(&self) -> ScimResult<Option<filter::Filter>> {
        self.filter
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| filter::parse(f).map_err(|e| ScimError::bad(ScimType::InvalidFilter, format!("`filter`: {e}"))))
            .transpose()
    }
}

/// The equalities on the indexed attributes (the unique key, in lowercase; `externalId`;
/// `id`) that every match of a filter must satisfy.
#[derive(Default)]
struct Equalities {
    key: Option<String>,
    external_id: Option<String>,
    id: Option<Uuid>,
}

/// Gathers the equalities on `key`, `externalId` and `id` of the `core` schema among the
/// filter's top-level `and`s into `into`; `false` when nothing can match (two different
/// values asked of one).
fn equalities(f: &filter::Filter, core: &str, key: &str, into: &mut Equalities) -> bool {
    use filter::{CompValue, CompareOp, Filter};
    match f {
        Filter::And(a, b) => equalities(a, core, key, into) && equalities(b, core, key, into),
        Filter::Compare(path, CompareOp::Eq, CompValue::String(v))
            if path.sub.is_none() && path.uri.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(core)) =>
        {
            if path.name.eq_ignore_ascii_case(key) {
                let lower = v.to_lowercase();
                return into.key.replace(lower.clone()).is_none_or(|k| k == lower);
            }
            if path.name.eq_ignore_ascii_case("externalId") {
                return into.external_id.replace(v.clone()).is_none_or(|k| k == *v);
            }
            if path.name.eq_ignore_ascii_case("id") {
                return match Uuid::parse_str(v) {
                    Ok(id) => into.id.replace(id).is_none_or(|k| k == id),
                    Err(_) => false,
                };
            }
            true
        }
        _ => true,
    }
}

/// A kind of resource that lists and filters: users or groups.
trait Listing {
    /// The equalities a read can be narrowed to (an index lookup).
    type Narrow: Default;
    /// The resource's schema, for filters and projections.
    fn schema() -> &'static crate::scim::schema::Resource;
    /// The attribute unique in the organisation ignoring case (`userName`, `displayName`).
    const KEY: &'static str;
    /// The read narrowed to `equalities`.
    fn narrowed(equalities: Equalities) -> Self::Narrow;
    /// The organisation's resources that `narrow` names, rendered, and how many there are in
    /// all; `page` is `(offset, limit)`, `None` for all of them.
    fn read(
        state: &crate::state::AppState,
        organisation: Uuid,
        narrow: &Self::Narrow,
        page: Option<(usize, usize)>,
        base: &str,
    ) -> impl std::future::Future<Output = ScimResult<(usize, Vec<Value>)>>;
}

/// A list answer: a page of the organisation's resources of kind `L`, filtered and projected
/// as `q` asks. An unfiltered list pages in the database; a filter reads what its equalities
/// narrow the resources to and is evaluated on their SCIM JSON.
async fn list<L: Listing>(
    req: &HttpRequest,
    state: &crate::state::AppState,
    organisation: Uuid,
    q: &ListQuery,
) -> ScimResult<HttpResponse> {
    let page = Page::new(q.start_index, q.count);
    let (attributes, excluded) = q.projection()?;
    let filter = q.parsed_filter()?;
    if let Some(f) = &filter {
        f.check(L::schema()).map_err(|why| ScimError::bad(ScimType::InvalidFilter, format!("`filter`: {why}.")))?;
    }
    let base = base(req);
    let (total, resources) = match &filter {
        None => L::read(state, organisation, &L::Narrow::default(), Some((page.offset(), page.count)), &base).await?,
        Some(f) => {
            let mut found = Equalities::default();
            let matching: Vec<Value> = if equalities(f, L::schema().core.id, L::KEY, &mut found) {
                let (_, all) = L::read(state, organisation, &L::narrowed(found), None, &base).await?;
                all.into_iter().filter(|r| f.matches(r, L::schema())).collect()
            } else {
                vec![]
            };
            (matching.len(), matching.into_iter().skip(page.offset()).take(page.count).collect())
        }
    };
    let resources = resources.iter().map(|r| messages::project(r, &attributes, &excluded, L::schema())).collect();
    Ok(answer(StatusCode::OK, &messages::list_response(resources, total, page)))
}

impl Projection {
    /// The `attributes` and `excludedAttributes` asked for.
    pub(super) fn projection(&self) -> ScimResult<(Vec<filter::AttrPath>, Vec<filter::AttrPath>)> {
        projection(self.attributes.as_deref(), self.excluded_attributes.as_deref())
    }
}

fn projection(
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> ScimResult<(Vec<filter::AttrPath>, Vec<filter::AttrPath>)> {
    let list = |l: Option<&str>| {
        messages::attribute_list(l.unwrap_or_default()).map_err(|e| ScimError::bad(ScimType::InvalidValue, e))
    };
    Ok((list(attributes)?, list(excluded)?))
}

/// The query string read as `T`; one that does not read is a SCIM `400`.
pub(super) fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> ScimResult<T> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("The query is not valid: {e}.")))
}

/// `NotFound` as `404` naming `id`; anything else as itself.
fn found<T>(result: Result<T, StoreError>, id: &str) -> ScimResult<T> {
    result.map_err(|e| match e {
        StoreError::NotFound => ScimError::not_found(id),
        other => other.into(),
    })
}

/// Search users and groups
///
/// RFC 7644 §3.4.3 at the root: a `SearchRequest` over every resource type, users first,
/// then groups; `totalResults` counts both.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_search_all",
    request_body(content = Object, content_type = "application/scim+json", description = "A SearchRequest.",
        example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName sw \"Zorg\"", "count": 10})),
    responses(
        (status = 200, description = "A page of users and groups.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d30", "displayName": "Zorg Oost"}]})),
    )
)]
#[post("/scim/v2/.search")]
async fn search_all(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<crate::state::AppState>,
) -> ScimResult<HttpResponse> {
    use crate::scim::schema::{GROUPS, USERS};
    let who = provisioner(&req).await?;
    let q = ListQuery::from_search(&read(&req, &body)?)?;
    let page = Page::new(q.start_index, q.count);
    let (attributes, excluded) = q.projection()?;
    let filter = q.parsed_filter()?;
    if let Some(f) = &filter {
        for schema in [&USERS, &GROUPS] {
            f.check(schema).map_err(|why| ScimError::bad(ScimType::InvalidFilter, format!("`filter`: {why}.")))?;
        }
    }
    let base = base(&req);
    let (_, users) = state.store.scim_users(who.organisation, &Default::default(), None, state.today()).await?;
    let (_, groups) = state.store.scim_groups(who.organisation, &Default::default(), None).await?;
    let all = users
        .iter()
        .map(|u| (users::render(u, &base), &USERS))
        .chain(groups.iter().map(|g| (groups::render(g, &base), &GROUPS)));
    let matching: Vec<_> = all.filter(|(r, schema)| filter.as_ref().is_none_or(|f| f.matches(r, *schema))).collect();
    let total = matching.len();
    let resources = matching
        .into_iter()
        .skip(page.offset())
        .take(page.count)
        .map(|(r, schema)| messages::project(&r, &attributes, &excluded, schema))
        .collect();
    Ok(answer(StatusCode::OK, &messages::list_response(resources, total, page)))
}

// ---- discovery ----

/// Read what the service supports
///
/// RFC 7643 §5: PATCH, filters (pages of at most 200) and ETags; no bulk, sorting or
/// password change. Needs a SCIM credential, as every SCIM path does.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_service_provider_config",
    responses(
        (status = 200, description = "The service provider's configuration.", content_type = "application/scim+json",
            body = Object, example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0}, "filter": {"supported": true, "maxResults": 200}, "changePassword": {"supported": false}, "sort": {"supported": false}, "etag": {"supported": true}})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "This SCIM token is not valid (it may have been replaced)."})),
    )
)]
#[get("/scim/v2/ServiceProviderConfig")]
async fn service_provider_config(req: HttpRequest) -> ScimResult<HttpResponse> {
    provisioner(&req).await?;
    let base = base(&req);
    Ok(answer(
        StatusCode::OK,
        &discovery::service_provider_config(&base, "https://github.com/vov/vov-api#connect-your-identity-provider"),
    ))
}

/// List the resource types
///
/// `User` (with the enterprise extension) and `Group`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_resource_types",
    responses(
        (status = 200, description = "The resource types, as a list response.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2, "startIndex": 1, "itemsPerPage": 2, "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/ResourceTypes")]
async fn resource_types(req: HttpRequest) -> ScimResult<HttpResponse> {
    provisioner(&req).await?;
    let all = discovery::resource_types(&base(&req));
    let total = all.len();
    Ok(answer(StatusCode::OK, &messages::list_response(all, total, Page::new(None, None))))
}

/// Read a resource type
///
/// `User` or `Group`, with its endpoint, schema and schema extensions.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_resource_type",
    params(("id" = String, Path, description = "`User` or `Group`", example = "User")),
    responses(
        (status = 200, description = "The resource type.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such resource type.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/ResourceTypes/{id}")]
async fn resource_type(req: HttpRequest, id: web::Path<String>) -> ScimResult<HttpResponse> {
    provisioner(&req).await?;
    discovery::resource_types(&base(&req))
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(|t| answer(StatusCode::OK, &t))
        .ok_or_else(|| ScimError::new(StatusCode::NOT_FOUND, None, format!("No resource type {:?}.", id.as_str())))
}

/// List the schemas
///
/// Every attribute the service keeps, with its type, case rule and mutability: exactly what
/// filters, PATCH and the answers use.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_schemas",
    responses(
        (status = 200, description = "The schemas, as a list response.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 3, "startIndex": 1, "itemsPerPage": 3, "Resources": [{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User", "attributes": []}]})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/Schemas")]
async fn list_schemas(req: HttpRequest) -> ScimResult<HttpResponse> {
    provisioner(&req).await?;
    let all = discovery::schemas(&base(&req));
    let total = all.len();
    Ok(answer(StatusCode::OK, &messages::list_response(all, total, Page::new(None, None))))
}

/// Read a schema
///
/// One schema by its URI: the core User, the enterprise extension or the Group.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_schema",
    params(("id" = String, Path, description = "The schema's URI", example = "urn:ietf:params:scim:schemas:core:2.0:User")),
    responses(
        (status = 200, description = "The schema.", content_type = "application/scim+json", body = Object,
            example = json!({"id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User", "attributes": [{"name": "userName", "type": "string", "multiValued": false, "required": true, "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "server"}]})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such schema.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/Schemas/{id}")]
async fn get_schema(req: HttpRequest, id: web::Path<String>) -> ScimResult<HttpResponse> {
    provisioner(&req).await?;
    discovery::schemas(&base(&req))
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id.as_str())))
        .map(|s| answer(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::new(StatusCode::NOT_FOUND, None, format!("No schema {:?}.", id.as_str())))
}

/// Adds to a SCIM operation the errors it may answer that it does not document itself, in
/// the SCIM error schema: `400` for its parameters or body, `401` and `403` for the
/// credential, `415` for a body's media type, `409` and `422` for an `Idempotency-Key`,
/// `500`, and `503` when the database is out of reach.
pub(crate) fn document_errors(op: &mut utoipa::openapi::path::Operation, idempotent: bool) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let has_input = op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_body = op.request_body.is_some();
    let errors = [
        (
            has_input,
            "400",
            Some("invalidValue"),
            "The request is not valid: `scimType` says how, `detail` what to fix.",
            "`filter`: at 9: expected an operator",
        ),
        (true, "401", None, "No valid SCIM credential.", "This SCIM token is not valid (it may have been replaced)."),
        (
            true,
            "403",
            None,
            "Not an integration client with the `scim` scope.",
            "SCIM is for an organisation's integration client with the `scim` scope.",
        ),
        (
            has_body,
            "415",
            None,
            "Not `application/scim+json` or `application/json`.",
            "Send the body as `application/scim+json` (or `application/json`).",
        ),
        (
            idempotent,
            "409",
            None,
            "A request with this `Idempotency-Key` is still in progress.",
            "A request with this Idempotency-Key is still in progress; retry in a moment.",
        ),
        (
            idempotent,
            "410",
            None,
            "A retry of a request whose answer concerned a person who has since been erased.",
            "This request was done, but its answer concerned a person who has since been erased; nothing of it is kept.",
        ),
        (
            idempotent,
            "422",
            None,
            "The `Idempotency-Key` was first used for another request.",
            "The Idempotency-Key was first used with a different method, path or body; use a new key for a new request.",
        ),
        (
            true,
            "500",
            None,
            "Something went wrong on our side.",
            "Something went wrong on our side. Quote the request id when you report it.",
        ),
        (
            true,
            "503",
            None,
            "The database is out of reach; retry shortly.",
            "The database is not reachable right now; retry shortly.",
        ),
    ];
    for (applies, status, scim_type, description, detail) in errors {
        if !applies {
            continue;
        }
        let mut example = json!({"schemas": [messages::ERROR], "status": status, "detail": detail});
        if let Some(t) = scim_type {
            example["scimType"] = json!(t);
        }
        op.responses.responses.entry(status.into()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        MEDIA_TYPE,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ScimErrorBody")))
                            .example(Some(example))
                            .build(),
                    )
                    .build(),
            )
        });
    }
}
