//! Organisations: the employers, policy bodies, social partners, sector funds, learning
//! providers and network partners of the network.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::validation::{Invalid, line};

/// Longest organisation name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest website URL, in characters.
pub const WEBSITE_MAX: usize = 300;
/// Most themes on one organisation.
pub const THEMES_MAX: usize = 20;
/// The NACE code pattern, as written into the OpenAPI document.
pub const NACE_PATTERN: &str = r"^([A-U]|[0-9]{2}(\.[0-9]{1,3})?)$";

str_enum! {
    /// What kind of stakeholder an organisation is.
    OrganisationKind {
        PolicyBody = "policy_body",
        Employer = "employer",
        SocialPartner = "social_partner",
        SectorFund = "sector_fund",
        LearningProvider = "learning_provider",
        NetworkPartner = "network_partner",
    }
}

str_enum! {
    /// Head count: micro (fewer than 10), small (10–49), medium (50–249), large (250 or more).
    SizeBand {
        Micro = "micro",
        Small = "small",
        Medium = "medium",
        Large = "large",
    }
}

str_enum! {
    /// A Flemish province, or Brussels.
    Region {
        Antwerp = "antwerp",
        EastFlanders = "east_flanders",
        FlemishBrabant = "flemish_brabant",
        Limburg = "limburg",
        WestFlanders = "west_flanders",
        Brussels = "brussels",
    }
}

/// The JSON Schema pattern of an enterprise number; [`EnterpriseNumber::parse`] accepts what
/// it matches and then checks the check digits (which no pattern can).
pub const ENTERPRISE_NUMBER_PATTERN: &str = r"^(BE ?)?[01][0-9]{3}[. ]?[0-9]{3}[. ]?[0-9]{3}$";

/// A Belgian enterprise number (KBO/BCE): ten digits starting with 0 or 1, the last two
/// being 97 minus the first eight modulo 97. Accepts `0123.456.749`, `0123 456 749`,
/// `BE0123456749` and `BE 0123.456.749`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseNumber(String);

impl EnterpriseNumber {
    pub fn parse(value: &str) -> Result<Self, String> {
        let malformed = || "must be a Belgian enterprise number of ten digits, such as 0123.456.749".to_string();
        let rest = value.strip_prefix("BE").map(|r| r.strip_prefix(' ').unwrap_or(r)).unwrap_or(value);
        let bytes = rest.as_bytes();
        let mut digits = String::with_capacity(10);
        let mut i = 0;
        for group in [4usize, 3, 3] {
            if !digits.is_empty() && i < bytes.len() && matches!(bytes[i], b'.' | b' ') {
                i += 1;
            }
            let part = rest.get(i..i + group).ok_or_else(malformed)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            digits.push_str(part);
            i += group;
        }
        if i != bytes.len() {
            return Err(malformed());
        }
        if !matches!(digits.as_bytes()[0], b'0' | b'1') {
            return Err("a Belgian enterprise number starts with 0 or 1".into());
        }
        let body: u64 = digits[..8].parse().map_err(|_| malformed())?;
        let check: u64 = digits[8..].parse().map_err(|_| malformed())?;
        if 97 - body % 97 != check {
            return Err("the check digits do not match: the number has a typo".into());
        }
        Ok(Self(digits))
    }

    /// Ten digits, no separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A NACE-BEL activity code: a section letter (`P`), a division (`85`), a group (`85.5`), a
/// class (`85.59`) or a Belgian subclass (`85.592`).
pub fn parse_nace(value: &str) -> Result<String, String> {
    let v = value.trim();
    // Every valid code is ASCII; checking first keeps the byte slicing below on char bounds.
    let ok = v.is_ascii()
        && match v.len() {
            1 => v.bytes().all(|b| (b'A'..=b'U').contains(&b)),
            2 => v.bytes().all(|b| b.is_ascii_digit()),
            4..=6 => {
                let (division, rest) = v.split_at(2);
                division.bytes().all(|b| b.is_ascii_digit())
                    && rest.starts_with('.')
                    && rest.len() > 1
                    && rest[1..].bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        };
    if ok {
        Ok(v.to_string())
    } else {
        Err("must be a NACE code such as `P`, `85`, `85.5`, `85.59` or `85.592`".into())
    }
}

/// The NACE sections and the divisions they hold (NACE Rev. 2).
const SECTIONS: &[(u8, &str, &str)] = &[
    (b'A', "01", "03"),
    (b'B', "05", "09"),
    (b'C', "10", "33"),
    (b'D', "35", "35"),
    (b'E', "36", "39"),
    (b'F', "41", "43"),
    (b'G', "45", "47"),
    (b'H', "49", "53"),
    (b'I', "55", "56"),
    (b'J', "58", "63"),
    (b'K', "64", "66"),
    (b'L', "68", "68"),
    (b'M', "69", "75"),
    (b'N', "77", "82"),
    (b'O', "84", "84"),
    (b'P', "85", "85"),
    (b'Q', "86", "88"),
    (b'R', "90", "93"),
    (b'S', "94", "96"),
    (b'T', "97", "98"),
    (b'U', "99", "99"),
];

/// What a sector filter matches: a section's division range, or every code starting with a
/// numeric code (`85` finds `85.59`, `85.5` finds `85.59`, `86.10` finds `86.101`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectorFilter {
    Section { letter: String, first: &'static str, last: &'static str },
    Prefix(String),
}

impl SectorFilter {
    /// From a code already checked by [`parse_nace`].
    pub fn of(code: &str) -> Self {
        match SECTIONS.iter().find(|(letter, ..)| code.as_bytes() == [*letter]) {
            Some((_, first, last)) => SectorFilter::Section { letter: code.to_string(), first, last },
            None => SectorFilter::Prefix(code.to_string()),
        }
    }
}

/// The JSON Schema pattern of a web address; [`parse_web_url`] accepts exactly what it matches.
pub const WEB_URL_PATTERN: &str = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$";

/// An absolute `http` or `https` URL with a domain name: letters, digits and hyphens in dotted
/// labels (the last starting with a letter), an optional port, and a path of visible ASCII.
/// Kept as given.
pub fn parse_web_url(value: &str, max: usize) -> Result<String, String> {
    let bad = || Err("must be an absolute http or https URL with a domain name, such as https://www.vov.be".into());
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let Some(rest) = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://")) else {
        return bad();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !path.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return bad();
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return bad();
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let last_ok = labels.last().is_some_and(|l| l.as_bytes().first().is_some_and(u8::is_ascii_alphabetic));
    if !labels.iter().all(|l| label_ok(l)) || !last_ok {
        return bad();
    }
    url::Url::parse(value).map_err(|_| "is not a valid URL".to_string())?;
    Ok(value.to_string())
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: Uuid,
    pub content: OrganisationContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The editable content of an organisation, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationContent {
    pub name: String,
    pub kind: OrganisationKind,
    pub enterprise_number: Option<EnterpriseNumber>,
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    pub website: Option<String>,
    /// Theme slugs; that they exist is checked against storage.
    pub themes: Vec<String>,
}

/// Unvalidated organisation content (a create body, or current content with a patch applied).
#[derive(Debug, Clone)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
    pub enterprise_number: Option<String>,
    pub sector: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    pub website: Option<String>,
    pub themes: Vec<String>,
}

impl OrganisationContent {
    pub fn parse(input: OrganisationInput) -> Result<Self, Invalid> {
        let mut inv = Invalid::default();
        let name = inv.check("/name", || line(&input.name, NAME_MAX));
        let enterprise_number = inv.check("/enterprise_number", || {
            input.enterprise_number.as_deref().map(EnterpriseNumber::parse).transpose()
        });
        let sector = inv.check("/sector", || input.sector.as_deref().map(parse_nace).transpose());
        let website =
            inv.check("/website", || input.website.as_deref().map(|w| parse_web_url(w, WEBSITE_MAX)).transpose());
        let themes = inv.check("/themes", || parse_theme_slugs(&input.themes));
        inv.finish(|| OrganisationContent {
            name: name.expect("checked"),
            kind: input.kind,
            enterprise_number: enterprise_number.expect("checked"),
            sector: sector.expect("checked"),
            size_band: input.size_band,
            region: input.region,
            website: website.expect("checked"),
            themes: themes.expect("checked"),
        })
    }

    pub fn to_input(&self) -> OrganisationInput {
        OrganisationInput {
            name: self.name.clone(),
            kind: self.kind,
            enterprise_number: self.enterprise_number.as_ref().map(|e| e.as_str().to_string()),
            sector: self.sector.clone(),
            size_band: self.size_band,
            region: self.region,
            website: self.website.clone(),
            themes: self.themes.clone(),
        }
    }
}

/// Theme slugs: well-formed, at most [`THEMES_MAX`], duplicates removed, order kept.
pub fn parse_theme_slugs(slugs: &[String]) -> Result<Vec<String>, String> {
    if slugs.len() > THEMES_MAX {
        return Err(format!("at most {THEMES_MAX} themes"));
    }
    let mut out: Vec<String> = Vec::with_capacity(slugs.len());
    for slug in slugs {
        let slug = super::theme::Slug::parse(slug).map_err(|e| format!("`{slug}` {e}"))?;
        if !out.iter().any(|s| s == slug.as_str()) {
            out.push(slug.as_str().to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_numbers_are_checked_with_modulo_97() {
        assert_eq!(EnterpriseNumber::parse("0123.456.749").unwrap().as_str(), "0123456749");
        assert_eq!(EnterpriseNumber::parse("BE 0123 456 749").unwrap().as_str(), "0123456749");
        assert!(EnterpriseNumber::parse("0123.456.748").is_err(), "typo in the check digits");
        assert!(EnterpriseNumber::parse("0123.465.749").is_err(), "swapped digits");
        assert!(EnterpriseNumber::parse("2123.456.749").is_err(), "must start with 0 or 1");
        assert!(EnterpriseNumber::parse("123.456.749").is_err(), "nine digits");
        assert!(EnterpriseNumber::parse("0123.456.74x").is_err());
        assert!(EnterpriseNumber::parse("BE0123456749").is_ok());
        for bad in ["be0123456749", "0123..456.749", " 0123.456.749", "0123.456.749 ", "BE  0123456749", ""] {
            assert!(EnterpriseNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nace_codes_at_every_level() {
        for ok in ["P", "85", "85.5", "85.59", "85.592"] {
            assert!(parse_nace(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Z", "8", "855", "85.", "85.5921", "p", "85,59", "(Æ5", "8Æ5", "Æ", "85.Æ", "85.5Æ"] {
            assert!(parse_nace(bad).is_err(), "{bad}");
        }
    }

    /// Multi-byte characters at every position of a valid value: each parser answers (ok or a
    /// message), never panics on a byte index inside a character.
    #[test]
    fn text_parsers_never_panic_on_multibyte_characters() {
        let samples = [
            "P",
            "85",
            "85.5",
            "85.59",
            "85.592",
            "0123.456.749",
            "0123456749",
            "https://www.vov.be/x",
            "an@vov.be",
            "informal-learning",
            "nl",
        ];
        for sample in samples {
            let chars: Vec<char> = sample.chars().collect();
            for i in 0..=chars.len() {
                for wide in ['Æ', '€', '😀', '\u{300}'] {
                    let mut inserted = chars.clone();
                    inserted.insert(i, wide);
                    let mut replaced = chars.clone();
                    if i < replaced.len() {
                        replaced[i] = wide;
                    }
                    for text in [inserted.iter().collect::<String>(), replaced.iter().collect()] {
                        let _ = parse_nace(&text);
                        let _ = EnterpriseNumber::parse(&text);
                        let _ = parse_web_url(&text, 200);
                        let _ = crate::domain::account::Email::parse(&text);
                        let _ = crate::domain::theme::Slug::parse(&text);
                        let _ = crate::domain::person::parse_languages(std::slice::from_ref(&text));
                        let _ = parse_theme_slugs(std::slice::from_ref(&text));
                        let _ = crate::http::pagination::parse_q(Some(&text), 200);
                    }
                }
            }
        }
    }

    #[test]
    fn a_section_letter_covers_its_divisions() {
        assert_eq!(SectorFilter::of("P"), SectorFilter::Section { letter: "P".into(), first: "85", last: "85" });
        assert_eq!(SectorFilter::of("Q"), SectorFilter::Section { letter: "Q".into(), first: "86", last: "88" });
        assert_eq!(SectorFilter::of("85.5"), SectorFilter::Prefix("85.5".into()));
        assert!(SECTIONS.iter().all(|(_, a, b)| a <= b));
    }

    #[test]
    fn websites_are_http_or_https() {
        assert_eq!(parse_web_url("https://www.vov.be", 300).unwrap(), "https://www.vov.be");
        assert!(parse_web_url("http://localhost:8080/a?b=c#d", 300).is_ok());
        for bad in [
            "javascript:alert(1)",
            "https://",
            "https://-a.be",
            "https://1.2.3.4",
            "https://a..be",
            "https://a.be:",
            "https://a.be/ x",
            "https://a.be:123456",
        ] {
            assert!(parse_web_url(bad, 300).is_err(), "{bad}");
        }
        assert!(parse_web_url("ftp://vov.be", 300).is_err());
        assert!(parse_web_url("vov.be", 300).is_err());
    }

    #[test]
    fn theme_lists_are_checked_and_deduplicated() {
        let slugs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_theme_slugs(&slugs(&["a-b", "c", "a-b"])).unwrap_err(),
            "`c` must be between 2 and 64 characters (got 1)"
        );
        assert_eq!(parse_theme_slugs(&slugs(&["a-b", "cd", "a-b"])).unwrap(), ["a-b", "cd"]);
    }
}
