//! Zorgnet Kempen's identity provider: an integration client with the `scim` scope and its
//! SCIM token, two users it provisioned and two groups, for the spec's SCIM examples.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ids::with_ids;
use crate::auth::password;
use crate::auth::rights::Scope;
use crate::db::Store;
use crate::db::ids::Kind as IdKind;
use crate::db::people::{ScimGroupWrite, ScimUserWrite};
use crate::domain::account::Email;
use crate::scim::user::{Attributes, EmailAddress, Name};

/// The demo SCIM client's name.
pub const SCIM_CLIENT_NAME: &str = "Zorgnet Kempen Entra ID";

/// Makes the client and its SCIM token (returned: it is kept only as a hash), then the users
/// and groups.
pub(super) async fn seed_scim(store: &Store, organisation: Uuid) -> anyhow::Result<(Uuid, String)> {
    let secret = crate::api::auth::new_secret(crate::api::auth::CLIENT_SECRET_PREFIX);
    let client = store
        .create_client(SCIM_CLIENT_NAME, Some(organisation), &[Scope::Scim], &password::hash(secret).await?)
        .await?;
    let spare = password::hash(crate::api::auth::new_secret(crate::api::auth::CLIENT_SECRET_PREFIX)).await?;
    let okta = store.create_client("Zorgnet Kempen Okta (test)", Some(organisation), &[Scope::Scim], &spare);
    with_ids("scim/spare", &[IdKind::Client], okta).await?;
    let token = crate::api::auth::new_secret(crate::auth::SCIM_TOKEN_PREFIX);
    store.set_scim_token(client, Some(&Sha256::digest(token.as_bytes()))).await?;
    let today = chrono::Utc::now().date_naive();
    let user = |given: &str, family: &str, email: &str, department: &str| -> anyhow::Result<ScimUserWrite> {
        Ok(ScimUserWrite {
            user_name: email.to_string(),
            external_id: Some(format!("entra-{}", given.to_lowercase())),
            attributes: Attributes {
                display_name: Some(format!("{given} {family}")),
                name: Name { formatted: None, family_name: Some(family.into()), given_name: Some(given.into()) },
                preferred_language: Some("nl-BE".into()),
                emails: vec![EmailAddress { value: email.into(), kind: Some("work".into()), primary: true }],
                department: Some(department.into()),
                ..Attributes::default()
            },
            name: format!("{given} {family}"),
            email: Some(Email::parse(email).map_err(anyhow::Error::msg)?),
            active: true,
        })
    };
    let hanne = user("Hanne", "Verhoeven", "hanne.verhoeven@zorgnetkempen.example", "Thuiszorg")?;
    let hanne = with_ids("scim/hanne", &[IdKind::Person], store.scim_put_user(organisation, None, &hanne, None, today))
        .await?
        .person_id;
    let bram = user("Bram", "Wouters", "bram.wouters@zorgnetkempen.example", "Logistiek")?;
    with_ids("scim/bram", &[IdKind::Person], store.scim_put_user(organisation, None, &bram, None, today)).await?;
    let team = ScimGroupWrite {
        display_name: "Zorgteam Geel".into(),
        external_id: Some("entra-zorgteam-geel".into()),
        members: vec![hanne],
    };
    with_ids("scim/zorgteam", &[IdKind::Group], store.scim_put_group(organisation, None, &team, None)).await?;
    let project = ScimGroupWrite { display_name: "Projectteam 2026".into(), external_id: None, members: vec![] };
    with_ids("scim/project", &[IdKind::Group], store.scim_put_group(organisation, None, &project, None)).await?;
    Ok((client, token))
}
