//! Who am I.

use crate::api::Routes;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::rights::{Role, Scope};
use crate::auth::{Caller, Subject};
use crate::error::Result;
use crate::state::AppState;

pub fn routes(cfg: &mut impl Routes) {
    cfg.service(get_me);
}

/// What kind of caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    Person,
    Client,
}

/// The caller, as the service knows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "person",
    "id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d11",
    "name": "An De Smet",
    "email": "facilitator@vov.example",
    "roles": ["member"],
    "scopes": [],
    "organisation_id": null,
    "organisations": [{"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen", "admin": true}]
}))]
pub struct Me {
    pub kind: CallerKind,
    /// The person's or the client's id.
    pub id: Uuid,
    /// The person's display name or the client's name.
    pub name: String,
    /// The person's e-mail address (people only).
    pub email: Option<String>,
    pub roles: Vec<Role>,
    /// Scopes granted to this token (integration clients only).
    pub scopes: Vec<Scope>,
    /// The organisation an integration client acts for.
    pub organisation_id: Option<Uuid>,
    /// A person's organisations: those with a membership in force today, and whether they
    /// administer it (an `org_admin` membership). Empty for clients.
    pub organisations: Vec<MyOrganisation>,
}

/// An organisation the caller belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12", "name": "Zorgnet Kempen", "admin": true}))]
pub struct MyOrganisation {
    pub id: Uuid,
    #[schema(example = "Zorgnet Kempen")]
    pub name: String,
    /// Whether the caller is one of its admins.
    pub admin: bool,
}

/// Who am I
///
/// The person or integration client the access token belongs to, with the roles and scopes
/// the token carries, and for a person the organisations they belong to today and which of
/// them they administer.
#[utoipa::path(
    tag = "Auth",
    operation_id = "get_me",
    responses((status = 200, description = "The caller.", body = Me))
)]
#[get("/v1/me")]
async fn get_me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse> {
    let me = match caller.subject {
        Subject::Person(id) => {
            let person = state.store.get_person_account(id).await.map_err(crate::api::privacy::account_gone)?;
            let admin_of = caller.admin_of.clone();
            let today = state.today();
            let organisations = state
                .store
                .affiliations(&[id], today)
                .await?
                .into_iter()
                .map(|(_, org, name)| MyOrganisation { id: org, name, admin: admin_of.contains(&org) })
                .collect();
            Me {
                kind: CallerKind::Person,
                id,
                name: person.display_name,
                email: Some(person.email),
                roles: caller.roles,
                scopes: caller.scopes,
                organisation_id: None,
                organisations,
            }
        }
        Subject::Client(id) => {
            let client = state.store.get_client(id).await?.filter(|c| !c.revoked).ok_or_else(|| {
                crate::error::ApiError::Unauthorized("The client behind this token was revoked or removed.".into())
            })?;
            Me {
                kind: CallerKind::Client,
                id,
                name: client.name,
                email: None,
                roles: caller.roles,
                scopes: caller.scopes,
                organisation_id: caller.organisation_id,
                organisations: vec![],
            }
        }
    };
    Ok(HttpResponse::Ok().json(me))
}
