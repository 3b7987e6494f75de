//! Every way a request body breaks its documented schema, at once.
//!
//! serde stops at the first member it cannot read. When it does, the body is checked against
//! the schema the OpenAPI document gives its type (a JSON Schema 2020-12), and every type,
//! format, pattern, length, range, enum, required and unknown-member violation is answered
//! together, each with its pointer. The schema is the contract clients are generated from, so
//! these are exactly the rules a client could have checked itself. Only the error path pays
//! for it: a body that reads is never validated twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

use crate::domain::FieldError;

/// Batches answer their items one by one in their results: the whole request is refused
/// only for what is wrong outside the items, so their items are not listed here.
const ITEMS_CHECKED_ON_THEIR_OWN: [&str; 2] = ["PeopleBatch", "RecordBatch"];

/// The most members listed in one answer.
const ERRORS_MAX: usize = 100;

/// The longest detail given for one member (a value quoted in a message can be long).
const DETAIL_MAX: usize = 300;

/// The violations of the schema documented for `T`, in document order; empty when `T` has
/// no schema of its name in the document, or the body breaks none of its rules.
pub fn violations<T>(body: &Value) -> Vec<FieldError> {
    let name = type_name::<T>();
    let Some(validator) = validator(name) else { return Vec::new() };
    let mut out: Vec<FieldError> = Vec::new();
    for error in validator.iter_errors(body) {
        collect(&error, &mut out);
    }
    if ITEMS_CHECKED_ON_THEIR_OWN.contains(&name) {
        out.retain(|e| !e.pointer.starts_with("/items/"));
    }
    // One detail per member, the first: an empty title is "too short" before it is "not
    // of the pattern".
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert(e.pointer.clone()));
    // A body of thousands of bad members gets the first ones, not an answer larger than it.
    out.truncate(ERRORS_MAX);
    out
}

/// The last path segment of `T`'s name: the schema name utoipa gives a type by default.
fn type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// The compiled validator for a component schema, compiled once per name.
fn validator(name: &str) -> Option<Arc<Validator>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Validator>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok()?.get(name) {
        return v.clone();
    }
    let compiled = compile(name);
    cache.lock().ok()?.insert(name.to_string(), compiled.clone());
    compiled
}

fn compile(name: &str) -> Option<Arc<Validator>> {
    static COMPONENTS: OnceLock<Value> = OnceLock::new();
    let components = COMPONENTS.get_or_init(|| {
        serde_json::from_slice::<Value>(crate::api::OPENAPI)
            .ok()
            .and_then(|mut doc| doc.get_mut("components").map(Value::take))
            .unwrap_or(Value::Null)
    });
    components.pointer(&format!("/schemas/{name}"))?;
    let root = serde_json::json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": components,
    });
    match jsonschema::draft202012::options().should_validate_formats(true).build(&root) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            tracing::warn!(schema = name, error = %e, "request body schema does not compile; serde's error is answered");
            None
        }
    }
}

/// One violation as field errors: a missing or unknown member at its own pointer, and for
/// `oneOf`/`anyOf` (how an optional or nullable member is written) what the branch that is
/// not `null` says.
fn collect(error: &ValidationError<'_>, out: &mut Vec<FieldError>) {
    let at = error.instance_path().as_str();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            out.push(FieldError::new(format!("{at}/{}", escape(&name)), "is required"));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                out.push(FieldError::new(format!("{at}/{}", escape(name)), "is not a member of this object"));
            }
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let not_null: Vec<&Vec<ValidationError<'static>>> =
                context.iter().filter(|branch| !branch.iter().all(expects_null)).collect();
            match not_null.as_slice() {
                [only] => only.iter().for_each(|e| collect(e, out)),
                _ => out.push(field(at, error)),
            }
        }
        // "A birth year or an age band, not both": the rule's own check names the member.
        ValidationErrorKind::Not { .. } => {}
        _ => out.push(field(at, error)),
    }
}

fn expects_null(error: &ValidationError<'_>) -> bool {
    matches!(error.kind(), ValidationErrorKind::Type { kind: TypeKind::Single(JsonType::Null) })
}

fn field(at: &str, error: &ValidationError<'_>) -> FieldError {
    let mut detail = match error.kind() {
        ValidationErrorKind::Type { kind } => {
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![article(*t)],
                TypeKind::Multiple(set) => set.iter().filter(|t| *t != JsonType::Null).map(article).collect(),
            };
            let nullable = matches!(kind, TypeKind::Multiple(set) if set.contains(JsonType::Null));
            format!("must be {}{}", names.join(" or "), if nullable { " (or null)" } else { "" })
        }
        ValidationErrorKind::Enum { options } => match options.as_array() {
            Some(values) => {
                let values: Vec<String> =
                    values.iter().map(|v| v.as_str().map_or(v.to_string(), |s| format!("`{s}`"))).collect();
                format!("must be one of {}", values.join(", "))
            }
            None => error.to_string(),
        },
        ValidationErrorKind::Format { format } => match format.as_str() {
            "date-time" => "must be a date and time (RFC 3339), such as `2027-03-01T09:00:00Z`".into(),
            "date" => "must be a date, YYYY-MM-DD".into(),
            "uuid" => "must be a UUID".into(),
            "uri" => "must be an absolute URI".into(),
            "email" => "must be an e-mail address".into(),
            other => format!("must be of the format `{other}`"),
        },
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} {}", characters(*limit)),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} {}", characters(*limit)),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::Pattern { .. } => {
            "has characters or a form that is not allowed here (see the schema's `pattern`)".into()
        }
        _ => error.to_string(),
    };
    if detail.chars().count() > DETAIL_MAX {
        detail = detail.chars().take(DETAIL_MAX).collect::<String>() + "…";
    }
    FieldError::new(if at.is_empty() { "/" } else { at }, detail)
}

fn characters(n: u64) -> &'static str {
    if n == 1 { "character" } else { "characters" }
}

fn article(t: JsonType) -> String {
    match t {
        JsonType::Array => "an array".into(),
        JsonType::Boolean => "true or false".into(),
        JsonType::Integer => "a whole number".into(),
        JsonType::Null => "null".into(),
        JsonType::Number => "a number".into(),
        JsonType::Object => "an object".into(),
        JsonType::String => "a string".into(),
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pointers(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn every_violation_is_listed_with_its_pointer() {
        struct NewEvent;
        let body = json!({
            "organiser_id": "not-a-uuid",
            "title": "",
            "format": "karaoke",
            "attendance_mode": "in_person",
            "starts_at": "tomorrow",
            "ends_at": "2027-03-01T12:00:00Z",
            "time_zone": "Europe/Brussels",
            "capacity": "twenty",
            "dress_code": "smart"
        });
        let errors = violations::<NewEvent>(&body);
        let mut at = pointers(&errors);
        at.sort_unstable();
        assert_eq!(at, ["/capacity", "/dress_code", "/format", "/organiser_id", "/starts_at", "/title"], "{errors:?}");
        let detail = |p: &str| errors.iter().find(|e| e.pointer == p).unwrap().detail.clone();
        assert_eq!(detail("/capacity"), "must be a whole number (or null)");
        assert_eq!(detail("/title"), "must be at least 1 character");
        assert!(detail("/format").starts_with("must be one of `inspiration_session`, `workshop`"), "{errors:?}");
        assert!(detail("/starts_at").starts_with("must be a date and time"));
        assert_eq!(detail("/dress_code"), "is not a member of this object");
    }

    #[test]
    fn a_missing_member_is_named_and_a_null_branch_is_not_the_answer() {
        struct NewMembership;
        let errors = violations::<NewMembership>(&json!({"role": "boss", "ends_on": 5}));
        let at = pointers(&errors);
        assert!(at.contains(&"/person_id") && at.contains(&"/starts_on"), "{errors:?}");
        let ends = errors.iter().find(|e| e.pointer == "/ends_on").expect("ends_on");
        assert!(ends.detail.starts_with("must be a string"), "{errors:?}");
    }

    #[test]
    fn a_body_with_thousands_of_bad_members_gets_the_first_hundred() {
        struct NewEvent;
        let mut body = serde_json::Map::new();
        for i in 0..5_000 {
            body.insert(format!("unknown_{i}"), json!(i));
        }
        assert_eq!(violations::<NewEvent>(&Value::Object(body)).len(), ERRORS_MAX);
    }

    #[test]
    fn a_type_without_a_schema_has_no_violations() {
        struct NotInTheDocument;
        assert!(violations::<NotInTheDocument>(&json!({"x": 1})).is_empty());
    }

    #[test]
    fn batch_items_are_left_to_their_results() {
        struct PeopleBatch;
        let errors = violations::<PeopleBatch>(&json!({"items": [{"name": 3}]}));
        assert_eq!(pointers(&errors), ["/system"]);
    }
}
