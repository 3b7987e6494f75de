//! People and their memberships of organisations.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::account::Email;
use super::validation::{FieldError, Invalid, line};

/// Longest display name, in characters.
pub const NAME_MAX: usize = 120;
/// Most languages on one person.
pub const LANGUAGES_MAX: usize = 10;
/// The accepted birth years. A fixed range, the same as the OpenAPI document's, so that the
/// document stays true every year; ages are derived from it only for insights.
pub const BIRTH_YEAR_MIN: i32 = 1900;
pub const BIRTH_YEAR_MAX: i32 = 2100;

str_enum! {
    /// Which stakeholder group of lifelong learning a person belongs to.
    StakeholderGroup {
        Employee = "employee",
        EmployerRepresentative = "employer_representative",
        HrProfessional = "hr_professional",
        PolicyMaker = "policy_maker",
        Facilitator = "facilitator",
        Other = "other",
    }
}

str_enum! {
    /// An age band, for insights about development at every age.
    AgeBand {
        Under25 = "under_25",
        From25To34 = "25_34",
        From35To44 = "35_44",
        From45To54 = "45_54",
        From55To64 = "55_64",
        From65 = "65_plus",
    }
}

str_enum! {
    /// A person's role in an organisation.
    MembershipRole {
        Employee = "employee",
        Manager = "manager",
        Hr = "hr",
        OrgAdmin = "org_admin",
    }
}

/// An ISO 639-1 language code (`nl`, `fr`, `en`, ...): two lowercase letters.
pub fn parse_languages(codes: &[String]) -> Result<Vec<String>, String> {
    if codes.len() > LANGUAGES_MAX {
        return Err(format!("at most {LANGUAGES_MAX} languages"));
    }
    let mut out: Vec<String> = Vec::with_capacity(codes.len());
    for code in codes {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(format!("`{code}` is not an ISO 639-1 code such as `nl` or `fr`"));
        }
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    Ok(out)
}

/// A person's profile, validated. Birth year and age band are alternatives: the service
/// keeps no more than the person chose to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonContent {
    pub name: String,
    pub email: Email,
    pub stakeholder_group: StakeholderGroup,
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub languages: Vec<String>,
}

/// Unvalidated profile content.
#[derive(Debug, Clone)]
pub struct PersonInput {
    pub name: String,
    pub email: String,
    pub stakeholder_group: StakeholderGroup,
    pub birth_year: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub languages: Vec<String>,
}

impl PersonContent {
    pub fn parse(input: PersonInput) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let name = inv.check("/name", || line(&input.name, NAME_MAX));
        let email = inv.check("/email", || Email::parse(&input.email));
        inv.check("/birth_year", || match input.birth_year {
            Some(y) if !(BIRTH_YEAR_MIN..=BIRTH_YEAR_MAX).contains(&y) => {
                Err(format!("must be between {BIRTH_YEAR_MIN} and {BIRTH_YEAR_MAX}"))
            }
            Some(_) if input.age_band.is_some() => Err("give a birth year or an age band, not both".into()),
            _ => Ok(()),
        });
        let languages = inv.check("/languages", || parse_languages(&input.languages));
        inv.finish(|| PersonContent {
            name: name.expect("checked"),
            email: email.expect("checked"),
            stakeholder_group: input.stakeholder_group,
            birth_year: input.birth_year,
            age_band: input.age_band,
            languages: languages.expect("checked"),
        })
    }

    pub fn to_input(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            email: self.email.as_str().to_string(),
            stakeholder_group: self.stakeholder_group,
            birth_year: self.birth_year,
            age_band: self.age_band,
            languages: self.languages.clone(),
        }
    }
}

/// A membership's period and role, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipTerms {
    pub role: MembershipRole,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

const DATE_RANGE: &str = "must be a day from 1900-01-01 to 2100-12-31";

impl MembershipTerms {
    /// `pointer` is where the terms sit in the request (`""`, `/membership`, `/items/3/membership`).
    pub fn parse(
        role: MembershipRole,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        pointer: &str,
    ) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let in_range = |d: NaiveDate| (Self::EARLIEST..=Self::LATEST).contains(&d);
        if !in_range(starts_on) {
            inv.errors.push(FieldError::new(format!("{pointer}/starts_on"), DATE_RANGE));
        }
        match ends_on {
            Some(end) if !in_range(end) => inv.errors.push(FieldError::new(format!("{pointer}/ends_on"), DATE_RANGE)),
            Some(end) if end < starts_on => {
                inv.errors.push(FieldError::new(format!("{pointer}/ends_on"), "must not be before starts_on"))
            }
            _ => {}
        }
        inv.finish(|| Self { role, starts_on, ends_on })
    }

    /// The first and last day a membership may name.
    pub const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
    pub const LATEST: NaiveDate = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a valid date");

    /// Whether the membership holds on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && self.ends_on.is_none_or(|end| day <= end)
    }
}

/// A stored person (without credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub content: PersonContent,
    /// The network-wide role (facilitator, member or policy reader).
    pub role: crate::auth::rights::PersonRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A stored membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub terms: MembershipTerms,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PersonInput {
        PersonInput {
            name: "Mira Peeters".into(),
            email: "mira@example.be".into(),
            stakeholder_group: StakeholderGroup::Employee,
            birth_year: Some(1968),
            age_band: None,
            languages: vec!["nl".into(), "fr".into()],
        }
    }

    #[test]
    fn a_birth_year_or_an_age_band_never_both() {
        assert!(PersonContent::parse(input()).is_ok());
        let both = PersonInput { age_band: Some(AgeBand::From55To64), ..input() };
        let err = PersonContent::parse(both).unwrap_err();
        assert_eq!(err.errors[0].pointer, "/birth_year");
        let out_of_range = PersonInput { birth_year: Some(1899), ..input() };
        assert!(PersonContent::parse(out_of_range).is_err());
    }

    #[test]
    fn languages_are_iso_639_1_codes() {
        assert!(parse_languages(&["nl".into(), "nl".into()]).unwrap() == ["nl"]);
        assert!(parse_languages(&["NL".into()]).is_err());
        assert!(parse_languages(&["nld".into()]).is_err());
    }

    #[test]
    fn a_membership_cannot_end_before_it_starts() {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let err = MembershipTerms::parse(MembershipRole::Employee, start, start.pred_opt(), "/membership").unwrap_err();
        assert_eq!(err.errors[0].pointer, "/membership/ends_on");
        let terms = MembershipTerms::parse(MembershipRole::Employee, start, Some(start), "").unwrap();
        assert!(terms.active_on(start));
        assert!(!terms.active_on(start.succ_opt().unwrap()));
    }
}
