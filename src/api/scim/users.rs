//! SCIM Users: people with a membership of the credential's organisation.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::StoreError;
use crate::db::people::{ScimNarrow, ScimUserRecord, ScimUserWrite};
use crate::domain::account::Email;
use crate::domain::validation::line;
use crate::scim::messages::{self, ScimType};
use crate::scim::patch;
use crate::scim::schema::USERS;
use crate::scim::user::{self, Known, User};
use crate::state::AppState;

fn user_id(id: &str) -> ScimResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found(id))
}

pub(super) fn render(record: &ScimUserRecord, base: &str) -> Value {
    let groups: Vec<(String, String)> = record.groups.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    Known {
        id: record.person_id.to_string(),
        user_name: &record.user_name,
        external_id: record.external_id.as_deref(),
        attributes: &record.attributes,
        display_name: &record.display_name,
        email: &record.email,
        active: record.active,
        groups: &groups,
        created: record.created_at,
        last_modified: record.updated_at,
        version: record.version,
    }
    .to_json(base)
}

fn tagged(status: StatusCode, record: &ScimUserRecord, base: &str) -> HttpResponse {
    let mut res = answer(status, &render(record, base));
    if let Ok(tag) = HeaderValue::from_str(&user::etag(record.version)) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    res
}

/// What a create or replacement will store, checked against the network's rules.
fn write_of(user: &User, active: bool) -> ScimResult<ScimUserWrite> {
    let email = user
        .email()
        .map(|e| Email::parse(e).map_err(|why| ScimError::bad(ScimType::InvalidValue, format!("`emails`: {why}."))))
        .transpose()?;
    let name = line(&user.display_name(), crate::domain::person::NAME_MAX)
        .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("`displayName` {e}.")))?;
    Ok(ScimUserWrite {
        user_name: user.user_name.clone(),
        external_id: user.external_id.clone(),
        attributes: user.attributes.clone(),
        name,
        email,
        active,
    })
}

/// Users list as [`list`] does.
struct Users;

impl Listing for Users {
    type Narrow = ScimNarrow;

    fn schema() -> &'static crate::scim::schema::Resource {
        &USERS
    }

    const KEY: &'static str = "userName";

    fn narrowed(e: Equalities) -> ScimNarrow {
        ScimNarrow { person_id: e.id, user_name_key: e.key, external_id: e.external_id }
    }

    async fn read(
        state: &AppState,
        organisation: Uuid,
        narrow: &ScimNarrow,
        page: Option<(usize, usize)>,
        base: &str,
    ) -> ScimResult<(usize, Vec<Value>)> {
        let (total, users) = state.store.scim_users(organisation, narrow, page, state.today()).await?;
        Ok((total, users.iter().map(|u| render(u, base)).collect()))
    }
}

const USER_EXAMPLE: &str = r#"{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "8f0c0b2e-4a1b-4c3d-9e8f-0a1b2c3d4e5f",
  "userName": "an.peeters@example.be",
  "name": {"givenName": "An", "familyName": "Peeters"},
  "displayName": "An Peeters",
  "emails": [{"value": "an.peeters@example.be", "type": "work", "primary": true}],
  "preferredLanguage": "nl-BE",
  "active": true,
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1042", "department": "Zorg"}
}"#;

/// List or filter the organisation's users
///
/// The users of the credential's organisation, in the order they were made. `filter` takes
/// the whole RFC 7644 grammar (`eq ne co sw ew pr gt ge lt le`, `and or not`, groups, value
/// paths such as `emails[type eq "work"].value`), comparing strings by each attribute's
/// `caseExact`; `totalResults` counts every match.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_list_users",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users.", content_type = "application/scim+json", body = Object,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20", "userName": "an.peeters@example.be", "active": true, "meta": {"resourceType": "User", "version": "W/\"2\""}}]})),
        (status = 400, description = "`invalidFilter` or `invalidValue`.", content_type = "application/scim+json", body = ScimErrorBody,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": "invalidFilter", "detail": "`filter`: at 9: expected an operator"})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not an integration client with the `scim` scope.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/Users")]
pub(super) async fn list_users(req: HttpRequest, state: web::Data<AppState>) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    list::<Users>(&req, &state, who.organisation, &query::<ListQuery>(&req)?).await
}

/// Search the organisation's users
///
/// The list, with the query in a `SearchRequest` body (RFC 7644 §3.4.3) instead of the URL.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_search_users",
    request_body(content = Object, content_type = "application/scim+json", description = "A SearchRequest.",
        example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"an.peeters@example.be\"", "startIndex": 1, "count": 10})),
    responses(
        (status = 200, description = "A page of users.", content_type = "application/scim+json", body = Object),
        (status = 400, description = "`invalidFilter`, `invalidValue` or `invalidSyntax`.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not an integration client with the `scim` scope.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[post("/scim/v2/Users/.search")]
pub(super) async fn search_users(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let body = read(&req, &body)?;
    let query = ListQuery::from_search(&body)?;
    list::<Users>(&req, &state, who.organisation, &query).await
}

/// Provision a user
///
/// Makes the person a member of the credential's organisation (an `employee` membership
/// from today; `active: false` makes one that ended yesterday). When a person of the
/// network already has the address and is a member of the organisation, the user is that
/// person; a person who is not a member is not claimed by their address (`409`). The
/// person's name in the network is `displayName` (else the formatted name, else given and
/// family name), their address the primary e-mail (else the first, else a `userName` that
/// is an address). `userName` is unique in the organisation, ignoring case.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_create_user",
    request_body(content = Object, content_type = "application/scim+json", description = "A User.",
        example = json!(serde_json::from_str::<Value>(USER_EXAMPLE).unwrap_or_default())),
    responses(
        (status = 201, description = "Provisioned.", content_type = "application/scim+json", body = Object,
            headers(("Location" = String, description = "The user's URL"), ("ETag" = String, description = "Its version, as `meta.version`"))),
        (status = 400, description = "`invalidValue` or `invalidSyntax`: what to fix.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not an integration client with the `scim` scope.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 409, description = "`uniqueness`: the `userName`, `externalId` or address is another's.", content_type = "application/scim+json", body = ScimErrorBody,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "scimType": "uniqueness", "detail": "The userName \"an.peeters@example.be\" is another user's in this organisation."})),
        (status = 415, description = "Not `application/scim+json` or `application/json`.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[post("/scim/v2/Users")]
pub(super) async fn create_user(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let user = User::from_json(&read(&req, &body)?)?;
    let write = write_of(&user, user.active.unwrap_or(true))?;
    let put = state.store.scim_put_user(who.organisation, None, &write, None, state.today()).await?;
    let id = put.person_id;
    let record = match put.created {
        Some(record) => record,
        // A member of the organisation, now its user: their groups and versions are read.
        None => state.store.scim_user(who.organisation, id, state.today()).await?,
    };
    let base = base(&req);
    let mut res = tagged(StatusCode::CREATED, &record, &base);
    if let Ok(location) = HeaderValue::from_str(&format!("{base}/Users/{id}")) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// Read a user
///
/// One user of the credential's organisation; `attributes` and `excludedAttributes` choose
/// what comes. Another organisation's user is `404`, as one that does not exist.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_get_user",
    params(("id" = String, Path, description = "The user's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"), Projection),
    responses(
        (status = 200, description = "The user.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`")),
            example = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20", "userName": "an.peeters@example.be", "displayName": "An Peeters", "active": true, "emails": [{"value": "an.peeters@example.be", "type": "work", "primary": true}], "meta": {"resourceType": "User", "created": "2026-12-07T10:00:00.000Z", "lastModified": "2026-12-07T10:00:00.000Z", "location": "https://vov.example/scim/v2/Users/0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20", "version": "W/\"2\""}})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not an integration client with the `scim` scope.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such user in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[get("/scim/v2/Users/{id}")]
pub(super) async fn get_user(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let (attributes, excluded) = query::<Projection>(&req)?.projection()?;
    let record = found(state.store.scim_user(who.organisation, user_id(&id)?, state.today()).await, &id)?;
    let base = base(&req);
    let mut res = answer(StatusCode::OK, &messages::project(&render(&record, &base), &attributes, &excluded, &USERS));
    // The tag goes with a representation that holds `meta.version`, not a part without it.
    let whole = !excluded.iter().any(|p| p.name.eq_ignore_ascii_case("meta") && p.sub.is_none())
        && (attributes.is_empty() || attributes.iter().any(|p| p.name.eq_ignore_ascii_case("meta")));
    if whole && let Ok(tag) = HeaderValue::from_str(&user::etag(record.version)) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    Ok(res)
}

/// Replace a user
///
/// The whole user, as a create takes it (Okta sends every attribute, `id` included, which
/// is ignored). Without `active` the membership stays as it is. `If-Match` with
/// `meta.version` makes it conditional.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_replace_user",
    params(("id" = String, Path, description = "The user's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the user you read: `412` if it changed since", example = "W/\"2\"")),
    request_body(content = Object, content_type = "application/scim+json", description = "The whole User.",
        example = json!(serde_json::from_str::<Value>(USER_EXAMPLE).unwrap_or_default())),
    responses(
        (status = 200, description = "The user now.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`"))),
        (status = 400, description = "`invalidValue` or `invalidSyntax`: what to fix.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not a SCIM credential; or it would end or restore an `org_admin` membership, or change the address a person signs in with.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such user in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 409, description = "`uniqueness`: the `userName`, `externalId` or address is another's.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 415, description = "Not `application/scim+json` or `application/json`.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[put("/scim/v2/Users/{id}")]
pub(super) async fn replace_user(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let person = user_id(&id)?;
    let tags = if_match(req.headers());
    let user = User::from_json(&read(&req, &body)?)?;
    let current = found(state.store.scim_user(who.organisation, person, state.today()).await, &id)?;
    let expected = tags.pin(current.version)?;
    let write = write_of(&user, user.active.unwrap_or(current.active))?;
    found(state.store.scim_put_user(who.organisation, Some(person), &write, expected, state.today()).await, &id)?;
    let record = found(state.store.scim_user(who.organisation, person, state.today()).await, &id)?;
    Ok(tagged(StatusCode::OK, &record, &base(&req)))
}

/// Change a user
///
/// RFC 7644 §3.5.2 `PatchOp`: `add`, `remove` and `replace`, with paths and value filters
/// (`emails[type eq "work"].value`), as identity providers send them: Entra's `Replace`,
/// `"False"`, `active` without a path; the first work address made by a filter that
/// matches nothing. The result is checked and stored as a replacement would be.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_patch_user",
    params(("id" = String, Path, description = "The user's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the user you read: `412` if it changed since", example = "W/\"2\"")),
    request_body(content = Object, content_type = "application/scim+json", description = "A PatchOp.",
        example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}, {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "an.peeters@example.be"}]})),
    responses(
        (status = 200, description = "The user now.", content_type = "application/scim+json", body = Object,
            headers(("ETag" = String, description = "Its version, as `meta.version`"))),
        (status = 400, description = "`invalidPath`, `noTarget`, `invalidValue`, `mutability` or `invalidSyntax`.", content_type = "application/scim+json", body = ScimErrorBody,
            example = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": "invalidPath", "detail": "`nickname` is not an attribute of a User."})),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not a SCIM credential; or it would end or restore an `org_admin` membership, or change the address a person signs in with.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such user in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 409, description = "`uniqueness`: the `userName`, `externalId` or address is another's.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 415, description = "Not `application/scim+json` or `application/json`.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[patch("/scim/v2/Users/{id}")]
pub(super) async fn patch_user(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let person = user_id(&id)?;
    let tags = if_match(req.headers());
    let operations = patch::operations(&read(&req, &body)?)?;
    let base = base(&req);
    // Applied to the user as read; when another write came in between (and the caller
    // named no version of its own), read again and apply again.
    for _ in 0..3 {
        let current = found(state.store.scim_user(who.organisation, person, state.today()).await, &id)?;
        tags.pin(current.version)?;
        let mut resource = render(&current, &base);
        patch::apply(&mut resource, &operations, &USERS)?;
        let user = User::from_json(&resource)?;
        let write = write_of(&user, user.active.unwrap_or(current.active))?;
        match state
            .store
            .scim_put_user(who.organisation, Some(person), &write, Some(current.version), state.today())
            .await
        {
            Err(StoreError::VersionMismatch { .. }) if tags.is_absent() => continue,
            other => found(other, &id)?,
        };
        let record = found(state.store.scim_user(who.organisation, person, state.today()).await, &id)?;
        return Ok(tagged(StatusCode::OK, &record, &base));
    }
    Err(ScimError::new(StatusCode::CONFLICT, None, "The user kept changing meanwhile; try again."))
}

/// Deprovision a user
///
/// The person leaves the organisation: their memberships there end and go, with the
/// organisation's references and groups of them, and what they shared with it is no longer
/// shared. A person who then belongs to no organisation and has no sign-in of their own is
/// erased from the network; anyone else stays, with their own data.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scim_delete_user",
    params(("id" = String, Path, description = "The user's id", example = "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d20"),
        ("If-Match" = Option<String>, Header, description = "`meta.version` of the user you read: `412` if it changed since", example = "W/\"2\"")),
    responses(
        (status = 204, description = "Deprovisioned."),
        (status = 401, description = "No valid SCIM credential.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 403, description = "Not a SCIM credential; or the person is an admin of the organisation (only its admins and facilitators end that).", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 404, description = "No such user in this organisation.", content_type = "application/scim+json", body = ScimErrorBody),
        (status = 412, description = "`If-Match` does not name the current version.", content_type = "application/scim+json", body = ScimErrorBody),
    )
)]
#[delete("/scim/v2/Users/{id}")]
pub(super) async fn delete_user(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> ScimResult<HttpResponse> {
    let who = provisioner(&req).await?;
    let person = user_id(&id)?;
    let tags = if_match(req.headers());
    let expected = if tags.is_absent() {
        None
    } else {
        tags.pin(found(state.store.scim_user(who.organisation, person, state.today()).await, &id)?.version)?
    };
    found(state.store.scim_delete_user(who.organisation, person, expected).await, &id)?;
    Ok(HttpResponse::NoContent().finish())
}
