//! The `vov` command line: `serve` (the default), `migrate`, `seed-demo`, `openapi`,
//! `create-admin`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::password;
use crate::auth::rights::PersonRole;
use crate::config::Settings;
use crate::db::{Store, StoreError};
use crate::domain::account::{Email, check_password};
use crate::startup::Application;
use crate::{api, demo, telemetry};

/// The VOV learning-network API.
#[derive(Debug, Parser)]
#[command(name = "vov", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). Migrates first; seeds demo data on an empty embedded database.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Add the demo data set (accounts, themes, organisations, people, a season of events with
    /// registrations and commitments) to the database; safe to repeat.
    SeedDemo,
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Create a facilitator account, or make an existing account a facilitator and set its
    /// password. The password comes from standard input when it is not a terminal, else from
    /// VOV_ADMIN_PASSWORD; without either a strong one is made and printed once.
    CreateAdmin {
        /// The facilitator's e-mail address (the sign-in name).
        #[arg(long)]
        email: String,
        /// The facilitator's display name.
        #[arg(long, default_value = "Facilitator")]
        name: String,
    },
}

/// Writes the OpenAPI document as pretty JSON with a trailing newline.
pub fn openapi_json() -> String {
    let mut json = serde_json::to_string_pretty(&api::openapi_json()).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(settings).await?;
    store.migrate().await?;
    Ok(store)
}

fn admin_password() -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if !line.is_empty() {
            return Ok((line, false));
        }
    }
    if let Ok(pw) = std::env::var("VOV_ADMIN_PASSWORD")
        && !pw.is_empty()
    {
        return Ok((pw, false));
    }
    let mut bytes = [0u8; 18];
    rand::fill(&mut bytes);
    Ok((hex::encode(bytes), true))
}

/// Runs a command; `serve` when none is given.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Openapi { output } => {
            let json = openapi_json();
            match output {
                Some(path) => std::fs::write(&path, json)?,
                None => print!("{json}"),
            }
        }
        Command::Migrate => {
            open_store(&settings).await?.close().await;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let store = open_store(&settings).await?;
            let client = demo::seed(&store).await?;
            store.close().await;
            println!("demo data seeded; sign in as {} / {}", demo::FACILITATOR_EMAIL, demo::PASSWORD);
            if let Some(client) = client {
                print_demo_client(&client);
            }
        }
        Command::CreateAdmin { email, name } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
            let name = crate::domain::validation::line(&name, 120).map_err(|e| anyhow::anyhow!("--name {e}"))?;
            let (secret, generated) = admin_password()?;
            check_password(&secret).map_err(|e| anyhow::anyhow!("the password {e}"))?;
            let store = open_store(&settings).await?;
            let hash = password::hash(secret.clone()).await?;
            match store.create_person_account(&email, &name, PersonRole::Facilitator, Some(&hash)).await {
                Ok(id) => println!("created facilitator {} ({id})", email.as_str()),
                Err(StoreError::Conflict(_)) => {
                    let account = store
                        .find_person_by_email(email.key())
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("the account vanished"))?;
                    store.set_person_credentials(account.id, PersonRole::Facilitator, &hash).await?;
                    println!("{} is now a facilitator with a new password", email.as_str());
                }
                Err(e) => return Err(e.into()),
            }
            if generated {
                println!("password (shown once): {secret}");
            }
            store.close().await;
        }
        Command::Serve => {
            telemetry::init(&settings);
            let app = Application::build(settings.clone()).await?;
            let base = format!("http://{}:{}", display_host(&settings.host), app.port());
            println!();
            println!("  VOV learning-network API listening on {base}");
            println!("  Swagger UI:   {base}/docs/");
            println!("  OpenAPI:      {base}/openapi.json");
            if app.seeded_demo_data() {
                println!("  Demo data seeded. Sign in (Authorize in Swagger UI, password flow):");
                println!("    username: {}", demo::FACILITATOR_EMAIL);
                println!("    password: {}", demo::PASSWORD);
                println!("  or: curl -s {base}/v1/auth/token -d grant_type=password \\");
                println!("        -d username={} -d password={}", demo::FACILITATOR_EMAIL, demo::PASSWORD);
                println!(
                    "  Other demo roles (same password): org admin {}, member {}, policy reader {}",
                    demo::ORG_ADMIN_EMAIL,
                    demo::MEMBER_EMAIL,
                    demo::POLICY_READER_EMAIL
                );
            }
            if let Some(client) = app.demo_client() {
                print_demo_client(client);
            }
            println!();
            app.run_until_stopped().await?;
        }
    }
    Ok(())
}

fn print_demo_client(client: &demo::DemoClient) {
    println!("  Demo integration client of Zorgnet Kempen (people:read people:write); the secret is shown once:");
    println!("    client_id:     {}", client.client_id);
    println!("    client_secret: {}", client.secret);
    println!("    organisation:  {}", client.organisation_id);
    println!("  Its identity provider's SCIM token ({}, scope scim), shown once:", demo::scim::SCIM_CLIENT_NAME);
    println!("    SCIM base URL: /scim/v2");
    println!("    SCIM token:    {}", client.scim_token);
}

fn display_host(host: &str) -> &str {
    match host {
        "0.0.0.0" | "::" => "localhost",
        other => other,
    }
}
