//! Accounts: how people and integration clients prove who they are.

/// Shortest accepted password, in characters (NIST SP 800-63B asks for at least 8; we ask
/// for a passphrase).
pub const PASSWORD_MIN: usize = 12;
/// Longest accepted password, in characters (argon2 input stays bounded).
pub const PASSWORD_MAX: usize = 256;

/// An e-mail address, kept as given for display and compared by its lowercase form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    key: String,
}

/// The JSON Schema pattern of an e-mail address; [`Email::parse`] accepts exactly what it
/// matches (plus the 254-character limit): a local part of up to 64 characters without `@`,
/// blanks or controls, and a domain of at least two dotted labels of letters, digits and
/// inner hyphens.
pub const EMAIL_PATTERN: &str = r"^[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

impl Email {
    pub fn parse(value: &str) -> Result<Self, String> {
        let bad = || Err(format!("`{value}` is not an e-mail address"));
        if value.chars().count() > 254 {
            return bad();
        }
        let Some((local, domain)) = value.split_once('@') else {
            return bad();
        };
        let local_ok = (1..=64).contains(&local.chars().count())
            && local.chars().all(|c| c != '@' && !super::validation::is_blank(c));
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let domain_ok = domain.split('.').count() >= 2 && domain.split('.').all(label_ok);
        if !local_ok || !domain_ok {
            return bad();
        }
        Ok(Self { display: value.to_string(), key: value.to_lowercase() })
    }

    /// As the person typed it.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-insensitive identity: unique across people.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Checks a new password against the policy.
pub fn check_password(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        Err(format!("must be at least {PASSWORD_MIN} characters"))
    } else if len > PASSWORD_MAX {
        Err(format!("must be at most {PASSWORD_MAX} characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_case_insensitively_but_display_as_given() {
        let e = Email::parse("An.De.Smet@VOV.example").unwrap();
        assert_eq!(e.as_str(), "An.De.Smet@VOV.example");
        assert_eq!(e.key(), "an.de.smet@vov.example");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "a",
            "a@b",
            "@vov.example",
            "a@@vov.example",
            "a b@vov.example",
            "a@-x.be",
            "a@x..be",
            " a@vov.example",
            "a@vov.example ",
            "a@vov_x.be",
            "a\u{feff}@vov.example",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_must_be_passphrases() {
        assert!(check_password("short").is_err());
        assert!(check_password("lerenderwijs-demo").is_ok());
    }
}
