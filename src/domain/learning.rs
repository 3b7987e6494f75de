//! The informal-learning log: learning records a person owns and shares by choice.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::event::{YEAR_MAX, YEAR_MIN};
use super::organisation::{parse_theme_slugs, parse_web_url};
use super::validation::{FieldError, Invalid, line, optional_text};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest description of what happened (Markdown), in characters.
pub const DESCRIPTION_MAX: usize = 10_000;
/// Longest reflection part, in characters.
pub const REFLECTION_MAX: usize = 5_000;
/// Longest duration: a year, in minutes.
pub const DURATION_MAX: i64 = 525_600;
/// Most skills, evidence links and organisations shared with.
pub const SKILLS_MAX: usize = 30;
pub const EVIDENCE_MAX: usize = 20;
pub const SHARED_WITH_MAX: usize = 20;
/// Longest skill label and evidence URL, in characters.
pub const SKILL_LABEL_MAX: usize = 200;
pub const EVIDENCE_URL_MAX: usize = 2_000;
/// The form of an ESCO skill URI.
pub const ESCO_PREFIX: &str = "http://data.europa.eu/esco/skill/";
pub const ESCO_PATTERN: &str =
    "^http://data\\.europa\\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

str_enum! {
    /// How the learning happened.
    ActivityType {
        OnTheJob = "on_the_job",
        PeerLearning = "peer_learning",
        CoachingMentoring = "coaching_mentoring",
        Intervision = "intervision",
        JobRotation = "job_rotation",
        SelfStudy = "self_study",
        Reading = "reading",
        OnlineCourse = "online_course",
        Event = "event",
        Volunteering = "volunteering",
        Other = "other",
    }
}

str_enum! {
    /// The 70-20-10 context: learning by doing (`experiential`, the 70), from and with
    /// others (`social`, the 20), or in structured learning (`formal`, the 10).
    LearningContext {
        Experiential = "experiential",
        Social = "social",
        Formal = "formal",
    }
}

str_enum! {
    /// Who may read a record, chosen by its owner: only the owner (`private`), the admins
    /// of the named organisations the owner belongs to (`organisation`), or every
    /// signed-in member (`network`).
    Visibility {
        Private = "private",
        Organisation = "organisation",
        Network = "network",
    }
}

impl ActivityType {
    /// The 70-20-10 context a record of this type has unless its owner says otherwise.
    pub fn default_context(self) -> LearningContext {
        use ActivityType::*;
        match self {
            OnTheJob | JobRotation | Volunteering | Other => LearningContext::Experiential,
            PeerLearning | CoachingMentoring | Intervision => LearningContext::Social,
            SelfStudy | Reading | OnlineCourse | Event => LearningContext::Formal,
        }
    }
}

/// A skill practised or gained: a free label and, where known, its ESCO skill URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "feedback geven", "esco_uri": "http://data.europa.eu/esco/skill/1b4a4f6d-4ea7-4a4b-9f5b-3d5f4e8e1c2a"}))]
pub struct Skill {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
    /// `http://data.europa.eu/esco/skill/<uuid>` (lowercase), when the skill is in ESCO.
    #[schema(
        pattern = "^http://data\\.europa\\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub esco_uri: Option<String>,
}

/// Checks the form of an ESCO skill URI: the ESCO prefix and a lowercase hyphenated UUID.
pub fn parse_esco_uri(value: &str) -> Result<String, String> {
    let bad = || format!("must be an ESCO skill URI, {ESCO_PREFIX}<uuid> with a lowercase UUID");
    let id = value.strip_prefix(ESCO_PREFIX).ok_or_else(bad)?;
    let form = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        });
    if form { Ok(value.to_string()) } else { Err(bad()) }
}

/// What a record says, as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContent {
    pub title: String,
    pub description: Option<String>,
    pub learned: Option<String>,
    pub will_do_differently: Option<String>,
    pub activity_type: ActivityType,
    pub context: LearningContext,
    /// Whether the owner chose the context (otherwise it follows the activity type).
    pub context_chosen: bool,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub duration_minutes: Option<i64>,
    pub skills: Vec<Skill>,
    pub themes: Vec<String>,
    pub evidence: Vec<String>,
    pub event_id: Option<Uuid>,
    pub commitment_id: Option<Uuid>,
    /// The shared solution the person applied.
    pub solution_id: Option<Uuid>,
}

/// A record's content as it arrives, before validation.
#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    pub title: String,
    pub description: Option<String>,
    pub learned: Option<String>,
    pub will_do_differently: Option<String>,
    pub activity_type: ActivityType,
    pub context: Option<LearningContext>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub duration_minutes: Option<i64>,
    pub skills: Vec<Skill>,
    pub themes: Vec<String>,
    pub evidence: Vec<String>,
    pub event_id: Option<Uuid>,
    pub commitment_id: Option<Uuid>,
    /// The shared solution the person applied.
    pub solution_id: Option<Uuid>,
}

// The macro-made enum cannot carry `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for ActivityType {
    fn default() -> Self {
        ActivityType::Other
    }
}

fn check_year(d: NaiveDate) -> Result<(), String> {
    if (YEAR_MIN..=YEAR_MAX).contains(&d.year()) {
        Ok(())
    } else {
        Err(format!("must be in the years {YEAR_MIN} to {YEAR_MAX}"))
    }
}

impl RecordContent {
    /// Validates `input`; field errors point below `prefix` (`""` or `/items/3`).
    pub fn parse(input: RecordInput, prefix: &str) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let at = |field: &str| format!("{prefix}/{field}");
        let title = inv.check(&at("title"), || line(&input.title, TITLE_MAX));
        let description =
            inv.check(&at("description"), || optional_text(input.description.as_deref(), DESCRIPTION_MAX));
        let learned = inv.check(&at("reflection/learned"), || optional_text(input.learned.as_deref(), REFLECTION_MAX));
        let will_do = inv.check(&at("reflection/will_do_differently"), || {
            optional_text(input.will_do_differently.as_deref(), REFLECTION_MAX)
        });
        inv.check(&at("started_on"), || check_year(input.started_on));
        inv.check(&at("ended_on"), || match input.ended_on {
            Some(end) if end < input.started_on => Err("must not be before `started_on`".to_string()),
            Some(end) => check_year(end),
            None => Ok(()),
        });
        inv.check(&at("duration_minutes"), || match input.duration_minutes {
            Some(m) if !(1..=DURATION_MAX).contains(&m) => Err(format!("must be 1 to {DURATION_MAX} minutes")),
            _ => Ok(()),
        });
        if input.skills.len() > SKILLS_MAX {
            inv.errors.push(FieldError::new(at("skills"), format!("at most {SKILLS_MAX} skills")));
        }
        let mut skills = Vec::with_capacity(input.skills.len());
        for (i, s) in input.skills.iter().enumerate().take(SKILLS_MAX) {
            let label = inv.check(&at(&format!("skills/{i}/label")), || line(&s.label, SKILL_LABEL_MAX));
            let uri = inv
                .check(&at(&format!("skills/{i}/esco_uri")), || s.esco_uri.as_deref().map(parse_esco_uri).transpose());
            if let (Some(label), Some(esco_uri)) = (label, uri)
                && !skills.iter().any(|k: &Skill| k.label == label && k.esco_uri == esco_uri)
            {
                skills.push(Skill { label, esco_uri });
            }
        }
        let themes = inv.check(&at("themes"), || parse_theme_slugs(&input.themes));
        if input.evidence.len() > EVIDENCE_MAX {
            inv.errors.push(FieldError::new(at("evidence"), format!("at most {EVIDENCE_MAX} links")));
        }
        let mut evidence: Vec<String> = Vec::with_capacity(input.evidence.len());
        for (i, url) in input.evidence.iter().enumerate().take(EVIDENCE_MAX) {
            if let Some(url) = inv.check(&at(&format!("evidence/{i}")), || parse_web_url(url, EVIDENCE_URL_MAX))
                && !evidence.contains(&url)
            {
                evidence.push(url);
            }
        }
        inv.finish(|| RecordContent {
            title: title.expect("checked"),
            description: description.expect("checked"),
            learned: learned.expect("checked"),
            will_do_differently: will_do.expect("checked"),
            activity_type: input.activity_type,
            context: input.context.unwrap_or(input.activity_type.default_context()),
            context_chosen: input.context.is_some(),
            started_on: input.started_on,
            ended_on: input.ended_on,
            duration_minutes: input.duration_minutes,
            skills,
            themes: themes.expect("checked"),
            evidence,
            event_id: input.event_id,
            commitment_id: input.commitment_id,
            solution_id: input.solution_id,
        })
    }

    /// The content as input again (to apply a patch to).
    pub fn to_input(&self) -> RecordInput {
        RecordInput {
            title: self.title.clone(),
            description: self.description.clone(),
            learned: self.learned.clone(),
            will_do_differently: self.will_do_differently.clone(),
            activity_type: self.activity_type,
            context: self.context_chosen.then_some(self.context),
            started_on: self.started_on,
            ended_on: self.ended_on,
            duration_minutes: self.duration_minutes,
            skills: self.skills.clone(),
            themes: self.themes.clone(),
            evidence: self.evidence.clone(),
            event_id: self.event_id,
            commitment_id: self.commitment_id,
            solution_id: self.solution_id,
        }
    }
}

/// Whom a record is shared with, as its owner chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharing {
    pub visibility: Visibility,
    /// With `organisation`: the organisations (the owner's own) whose admins read it.
    pub shared_with: Vec<Uuid>,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing { visibility: Visibility::Private, shared_with: vec![] }
    }
}

impl Sharing {
    /// Checks the form: `organisation` names 1 to 20 organisations, the others none.
    /// Whether the owner belongs to them is checked against the database.
    pub fn parse(visibility: Visibility, shared_with: Vec<Uuid>, prefix: &str) -> Result<Self, Invalid> {
        let mut orgs: Vec<Uuid> = Vec::with_capacity(shared_with.len());
        for o in shared_with {
            if !orgs.contains(&o) {
                orgs.push(o);
            }
        }
        let pointer = format!("{prefix}/shared_with");
        match visibility {
            Visibility::Organisation if orgs.is_empty() => Err(Invalid::one(
                pointer,
                "names at least one of your organisations when `visibility` is `organisation`",
            )),
            Visibility::Organisation if orgs.len() > SHARED_WITH_MAX => {
                Err(Invalid::one(pointer, format!("at most {SHARED_WITH_MAX} organisations")))
            }
            Visibility::Private | Visibility::Network if !orgs.is_empty() => {
                Err(Invalid::one(pointer, "is only for `visibility` `organisation`; leave it empty"))
            }
            _ => Ok(Sharing { visibility, shared_with: orgs }),
        }
    }
}

/// Where a record came from: typed in by its owner, imported from a spreadsheet, or
/// synced by an HR system (its name).
pub const SOURCE_MANUAL: &str = "manual";
pub const SOURCE_IMPORT: &str = "import";

/// The `(organisation, system, external id)` an HR system upserts a record by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub scope: Uuid,
    pub system: String,
    pub external_id: String,
}

/// A stored learning record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearningRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub content: RecordContent,
    pub sharing: Sharing,
    pub source: String,
    pub external_ref: Option<RecordRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl LearningRecord {
    /// A new record a person (or the demo) writes by hand: version 1, no HR reference.
    pub fn manual(person_id: Uuid, content: RecordContent, sharing: Sharing, at: DateTime<Utc>) -> Self {
        LearningRecord {
            id: crate::db::ids::new_id(crate::db::ids::Kind::LearningRecord),
            person_id,
            content,
            sharing,
            source: SOURCE_MANUAL.to_string(),
            external_ref: None,
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RecordInput {
        RecordInput {
            title: "Werkplekleren met een buddy".into(),
            activity_type: ActivityType::PeerLearning,
            started_on: NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn the_context_follows_the_activity_type_unless_chosen() {
        let c = RecordContent::parse(input(), "").unwrap();
        assert_eq!((c.context, c.context_chosen), (LearningContext::Social, false));
        let c = RecordContent::parse(RecordInput { context: Some(LearningContext::Formal), ..input() }, "").unwrap();
        assert_eq!((c.context, c.context_chosen), (LearningContext::Formal, true));
        assert_eq!(ActivityType::OnTheJob.default_context(), LearningContext::Experiential);
        assert_eq!(ActivityType::OnlineCourse.default_context(), LearningContext::Formal);
    }

    #[test]
    fn esco_uris_are_checked_in_form() {
        let ok = "http://data.europa.eu/esco/skill/1b4a4f6d-4ea7-4a4b-9f5b-3d5f4e8e1c2a";
        assert!(parse_esco_uri(ok).is_ok());
        assert!(parse_esco_uri(&ok.to_uppercase()).is_err());
        assert!(parse_esco_uri(&ok.replace("http:", "https:")).is_err());
        assert!(parse_esco_uri("http://data.europa.eu/esco/skill/1b4a4f6d4ea74a4b9f5b3d5f4e8e1c2a").is_err());
        assert!(parse_esco_uri("http://data.europa.eu/esco/occupation/1b4a4f6d-4ea7-4a4b-9f5b-3d5f4e8e1c2a").is_err());
    }

    #[test]
    fn every_bad_field_is_reported_with_its_pointer() {
        let bad = RecordInput {
            title: " ".into(),
            ended_on: NaiveDate::from_ymd_opt(2027, 1, 1),
            duration_minutes: Some(0),
            skills: vec![Skill { label: "x".into(), esco_uri: Some("https://esco.example/1".into()) }],
            evidence: vec!["ftp://example.org/file".into()],
            ..input()
        };
        let err = RecordContent::parse(bad, "/items/4").unwrap_err();
        let pointers: Vec<&str> = err.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/items/4/title",
                "/items/4/ended_on",
                "/items/4/duration_minutes",
                "/items/4/skills/0/esco_uri",
                "/items/4/evidence/0"
            ]
        );
    }

    #[test]
    fn sharing_names_organisations_only_for_organisation_visibility() {
        let org = Uuid::now_v7();
        assert!(Sharing::parse(Visibility::Organisation, vec![], "").is_err());
        assert!(Sharing::parse(Visibility::Network, vec![org], "").is_err());
        assert_eq!(Sharing::parse(Visibility::Organisation, vec![org, org], "").unwrap().shared_with, vec![org]);
    }
}
