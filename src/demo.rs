//! The demo data set: what a newcomer finds on the first start of the embedded default.

use crate::auth::password;
use crate::auth::rights::PersonRole;
use crate::db::{Store, StoreError};
use crate::domain::account::Email;
use crate::domain::theme::{Slug, ThemeContent};

/// The demo facilitator's e-mail address.
pub const FACILITATOR_EMAIL: &str = "facilitator@vov.example";
/// The password of every demo account. Documented; never use the demo data in production.
pub const PASSWORD: &str = "lerenderwijs-demo";

/// The curated themes: slug, Dutch label, English label, description.
pub const THEMES: &[(&str, &str, &str, &str)] = &[
    (
        "lifelong-learning",
        "Levenslang leren",
        "Lifelong learning",
        "Leren en ontwikkelen als gedeelde verantwoordelijkheid van beleid, werkgevers en werknemers, een heel leven lang.",
    ),
    (
        "informal-learning",
        "Informeel leren",
        "Informal learning",
        "Leren op de werkvloer, met collega's en in de leeromgeving: ontwikkeling in de ruimste zin, niet enkel opleiding.",
    ),
    (
        "workplace-learning",
        "Werkplekleren",
        "Workplace learning",
        "De werkplek en de leercontext als plaats waar mensen groeien.",
    ),
    (
        "careers-at-every-age",
        "Loopbanen op elke leeftijd",
        "Careers at every age",
        "Olijfboomloopbanen in plaats van citroenloopbanen: ontwikkeling is iets van alle leeftijden.",
    ),
    (
        "older-workers",
        "Oudere werknemers",
        "Older workers",
        "Een ontwikkelstrategie in plaats van een ontziestrategie, zodat oudere werknemers gemotiveerd blijven.",
    ),
    (
        "learning-as-competitive-advantage",
        "Leren als concurrentieel voordeel",
        "Learning as a competitive advantage",
        "Blijvende ontwikkeling maakt medewerkers flexibeler en inzetbaarder: lerenderwijs.",
    ),
    (
        "learning-together",
        "Samen leren",
        "Learning together",
        "Stakeholders brengen uitdagingen in, gaan bij elkaar te rade en co-creëren gedragen oplossingen.",
    ),
    (
        "inspiration-to-action",
        "Van inspiratie naar actie",
        "From inspiration to action",
        "Wat je op een inspiratiemoment leert, omzetten in concrete actie en beweging.",
    ),
    (
        "learning-culture",
        "Leercultuur",
        "Learning culture",
        "Organisaties waar leren vanzelfsprekend is en leuk: leren moet leuk zijn wil het maximaal renderen.",
    ),
    (
        "learning-in-smes",
        "Leren in kmo's",
        "Learning in SMEs",
        "Ontwikkeling in kleine en middelgrote ondernemingen, waar tijd en middelen schaars zijn.",
    ),
    (
        "digital-skills",
        "Digitale vaardigheden",
        "Digital skills",
        "Mee blijven met digitale werkvormen en technologie, op elke leeftijd.",
    ),
];

/// Seeds the demo data; safe to run again (what exists is left alone).
pub async fn seed(store: &Store) -> anyhow::Result<()> {
    let hash = password::hash(PASSWORD.to_string()).await?;
    let email = Email::parse(FACILITATOR_EMAIL).map_err(anyhow::Error::msg)?;
    match store.create_person_account(&email, "An De Smet", PersonRole::Facilitator, Some(&hash)).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    for (slug, nl, en, description) in THEMES {
        let content = ThemeContent {
            slug: Slug::parse(slug).map_err(anyhow::Error::msg)?,
            label_nl: (*nl).to_string(),
            label_en: (*en).to_string(),
            description: Some((*description).to_string()),
        };
        match store.create_theme(&content).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!("demo data seeded");
    Ok(())
}
