//! Shared solutions: challenges stakeholders bring to the network, the solutions they
//! co-create (with revisions), endorsements and comments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::organisation::{SizeBand, parse_nace, parse_theme_slugs};
use super::validation::{FieldError, Invalid, line, optional_text};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest challenge description (Markdown).
pub const DESCRIPTION_MAX: usize = 20_000;
/// Longest solution summary (plain text).
pub const SUMMARY_MAX: usize = 1_000;
/// Longest solution body (Markdown).
pub const BODY_MAX: usize = 50_000;
/// Longest results and evidence text.
pub const RESULTS_MAX: usize = 5_000;
/// Most challenges one solution answers.
pub const CHALLENGES_MAX: usize = 10;
/// Longest endorsement note.
pub const NOTE_MAX: usize = 280;
/// Longest comment.
pub const COMMENT_MAX: usize = 5_000;
/// Most words in a search.
pub const SEARCH_WORDS_MAX: usize = 10;

str_enum! {
    /// Where a challenge stands: still looking for answers (`open`), answered by one or more
    /// solutions (`addressed`), or no longer pursued (`closed`).
    ChallengeStatus {
        Open = "open",
        Addressed = "addressed",
        Closed = "closed",
    }
}

str_enum! {
    /// A `draft` is read by its co-authors (and facilitators) only; a `published` solution by
    /// everyone, also without a token. Publishing is final.
    SolutionStatus {
        Draft = "draft",
        Published = "published",
    }
}

str_enum! {
    /// How far a solution got: an `idea`, tried out (`piloted`), or `proven` by results.
    Maturity {
        Idea = "idea",
        Piloted = "piloted",
        Proven = "proven",
    }
}

str_enum! {
    /// A group of people a challenge or solution is about.
    TargetGroup {
        OlderWorkers = "older_workers",
        Newcomers = "newcomers",
        LowSkilled = "low_skilled",
        YoungWorkers = "young_workers",
        Jobseekers = "jobseekers",
        PeopleWithDisabilities = "people_with_disabilities",
        CareerSwitchers = "career_switchers",
        Managers = "managers",
        AllEmployees = "all_employees",
    }
}

str_enum! {
    /// What a revision changed.
    RevisionChange {
        Created = "created",
        Edited = "edited",
        Published = "published",
        CoAuthorAdded = "co_author_added",
        CoAuthorRemoved = "co_author_removed",
    }
}

/// Where a challenge or solution applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sector": "Q", "size_band": "medium", "target_groups": ["older_workers"]}))]
pub struct Context {
    /// A NACE section letter (`Q`) or code (`86.10`).
    #[serde(default)]
    #[schema(pattern = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$", example = "Q")]
    pub sector: Option<String>,
    /// The size of the organisations it is about.
    #[serde(default)]
    pub size_band: Option<SizeBand>,
    /// Who it is about.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub target_groups: Vec<TargetGroup>,
}

/// The members of a context, as they arrive.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextFields {
    #[serde(default)]
    sector: Option<String>,
    #[serde(default)]
    size_band: Option<SizeBand>,
    #[serde(default)]
    target_groups: Vec<TargetGroup>,
}

// Only an object is a context: serde's derive would also read one from an array.
impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Context;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with `sector`, `size_band` and `target_groups`")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Context, A::Error> {
                let c = ContextFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Context { sector: c.sector, size_band: c.size_band, target_groups: c.target_groups })
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl Context {
    /// Checks the sector and drops repeated target groups.
    pub fn parse(self, pointer: &str, inv: &mut Invalid) -> Context {
        let sector =
            inv.check(&format!("{pointer}/sector"), || self.sector.as_deref().map(parse_nace).transpose()).flatten();
        let mut target_groups = Vec::with_capacity(self.target_groups.len());
        for g in self.target_groups {
            if !target_groups.contains(&g) {
                target_groups.push(g);
            }
        }
        Context { sector, size_band: self.size_band, target_groups }
    }
}

/// The folded words of a search, each matched as a prefix; `None` when `q` has no word.
pub fn search_words(q: &str) -> Option<Vec<String>> {
    let folded = crate::db::page::fold(q);
    let mut words: Vec<String> = Vec::new();
    for w in folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !words.iter().any(|x| x == w) && words.len() < SEARCH_WORDS_MAX {
            words.push(w.to_string());
        }
    }
    (!words.is_empty()).then_some(words)
}

/// A challenge as its author wrote it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeContent {
    pub title: String,
    pub description: Option<String>,
    /// The organisation the author brings it for.
    pub organisation_id: Option<Uuid>,
    pub context: Context,
    pub themes: Vec<String>,
    pub status: ChallengeStatus,
}

impl ChallengeContent {
    /// Validates every field, reporting each problem with its pointer.
    pub fn parse(input: ChallengeContent) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let title = inv.check("/title", || line(&input.title, TITLE_MAX));
        let description = inv.check("/description", || optional_text(input.description.as_deref(), DESCRIPTION_MAX));
        let context = input.context.parse("/context", &mut inv);
        let themes = inv.check("/themes", || parse_theme_slugs(&input.themes));
        inv.finish(|| ChallengeContent {
            title: title.expect("checked"),
            description: description.expect("checked"),
            organisation_id: input.organisation_id,
            context,
            themes: themes.expect("checked"),
            status: input.status,
        })
    }
}

/// An author as shown: a person, or a former member who erased their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub person_id: Option<Uuid>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: Uuid,
    pub author: Author,
    pub content: ChallengeContent,
    /// Published solutions that answer it.
    pub solution_count: i64,
    pub comment_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A solution's content: what every revision keeps in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Leerpeters en -meters voor vijftigplussers",
    "summary": "Ervaren medewerkers begeleiden nieuwe collega's en leren zelf bij.",
    "body": "## Aanpak\n\nElke nieuwe collega krijgt een peter of meter van 50+.",
    "challenge_ids": [],
    "event_id": null,
    "context": {"sector": "Q", "size_band": "large", "target_groups": ["older_workers"]},
    "themes": ["older-workers"],
    "maturity": "idea",
    "results": null,
    "status": "draft"
}))]
pub struct SolutionContent {
    pub title: String,
    pub summary: Option<String>,
    /// Markdown, as written.
    pub body: Option<String>,
    /// The challenges it answers.
    pub challenge_ids: Vec<Uuid>,
    /// The event where it was co-created.
    pub event_id: Option<Uuid>,
    pub context: Context,
    pub themes: Vec<String>,
    pub maturity: Maturity,
    /// Results and evidence.
    pub results: Option<String>,
    pub status: SolutionStatus,
}

impl SolutionContent {
    /// Validates every field, reporting each problem with its pointer.
    pub fn parse(input: SolutionContent) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let title = inv.check("/title", || line(&input.title, TITLE_MAX));
        let summary = inv.check("/summary", || optional_text(input.summary.as_deref(), SUMMARY_MAX));
        let body = inv.check("/body", || optional_text(input.body.as_deref(), BODY_MAX));
        let results = inv.check("/results", || optional_text(input.results.as_deref(), RESULTS_MAX));
        let context = input.context.parse("/context", &mut inv);
        let themes = inv.check("/themes", || parse_theme_slugs(&input.themes));
        if input.challenge_ids.len() > CHALLENGES_MAX {
            inv.errors.push(FieldError::new("/challenge_ids", format!("at most {CHALLENGES_MAX} challenges")));
        }
        let mut challenge_ids: Vec<Uuid> = Vec::with_capacity(input.challenge_ids.len());
        for c in input.challenge_ids {
            if !challenge_ids.contains(&c) {
                challenge_ids.push(c);
            }
        }
        inv.finish(|| SolutionContent {
            title: title.expect("checked"),
            summary: summary.expect("checked"),
            body: body.expect("checked"),
            challenge_ids,
            event_id: input.event_id,
            context,
            themes: themes.expect("checked"),
            maturity: input.maturity,
            results: results.expect("checked"),
            status: input.status,
        })
    }
}

/// A co-author of a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoAuthor {
    pub author: Author,
    /// The organisation they act for.
    pub organisation_id: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub id: Uuid,
    pub content: SolutionContent,
    pub published_at: Option<DateTime<Utc>>,
    pub co_authors: Vec<CoAuthor>,
    pub endorsement_count: i64,
    pub comment_count: i64,
    /// Learning records that name it.
    pub adoption_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The revision number.
    pub version: i64,
}

impl Solution {
    /// Whether `person` is one of its co-authors.
    pub fn is_co_author(&self, person: Uuid) -> bool {
        self.co_authors.iter().any(|a| a.author.person_id == Some(person))
    }

    /// The co-authors who are still members.
    pub fn co_author_ids(&self) -> Vec<Uuid> {
        self.co_authors.iter().filter_map(|a| a.author.person_id).collect()
    }

    pub fn is_published(&self) -> bool {
        self.content.status == SolutionStatus::Published
    }
}

/// One revision of a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub number: i64,
    pub author: Author,
    pub change: RevisionChange,
    /// The full content as of this revision.
    pub content: SolutionContent,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    pub id: Uuid,
    pub solution_id: Uuid,
    pub author: Author,
    pub organisation_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// What a comment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentTarget {
    Challenge(Uuid),
    Solution(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: Uuid,
    pub target: CommentTarget,
    pub parent_id: Option<Uuid>,
    pub author: Author,
    pub body: String,
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_folded_split_and_deduplicated() {
        assert_eq!(
            search_words("Óntwikkeling  op de werkvloer"),
            Some(vec!["ontwikkeling".to_string(), "op".into(), "de".into(), "werkvloer".into()])
        );
        assert_eq!(search_words("e-learning e"), Some(vec!["e".to_string(), "learning".into()]));
        assert_eq!(search_words(" !?* \"\" "), None);
        assert_eq!(search_words("a b c d e f g h i j k l").unwrap().len(), SEARCH_WORDS_MAX);
    }

    #[test]
    fn a_context_is_read_from_an_object_only() {
        let c: Context = serde_json::from_str(r#"{"sector": "Q", "target_groups": ["older_workers"]}"#).unwrap();
        assert_eq!(
            (c.sector.as_deref(), c.size_band, c.target_groups),
            (Some("Q"), None, vec![TargetGroup::OlderWorkers])
        );
        assert!(serde_json::from_str::<Context>("[null, null]").is_err());
        assert!(serde_json::from_str::<Context>(r#"{"sektor": "Q"}"#).is_err());
    }

    #[test]
    fn a_solution_reports_every_bad_field_with_its_pointer() {
        let input = SolutionContent {
            title: " ".into(),
            summary: Some("x".repeat(SUMMARY_MAX + 1)),
            body: None,
            challenge_ids: vec![Uuid::nil(); CHALLENGES_MAX + 1],
            event_id: None,
            context: Context { sector: Some("ZZ".into()), size_band: None, target_groups: vec![] },
            themes: vec!["Not A Slug".into()],
            maturity: Maturity::Idea,
            results: None,
            status: SolutionStatus::Draft,
        };
        let err = SolutionContent::parse(input).unwrap_err();
        let pointers: Vec<&str> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/title", "/summary", "/context/sector", "/themes", "/challenge_ids"]);
    }
}
