//! A JSON body extractor whose errors are problems with JSON pointers.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::domain::Invalid;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body of type `T`. Accepts `application/json` and any `application/*+json`
/// (such as `application/merge-patch+json`); unknown fields are refused by the types.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Whether a `Content-Type` value is a JSON media type.
pub fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a request body of at most `limit` bytes.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("The request body could not be read: {e}.")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Turns a deserialisation error into a problem: syntax errors are 400, type and shape
/// errors 422 with a pointer to the member.
pub fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let inner = err.inner();
    let message = inner.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    match inner.classify() {
        Category::Data => {
            let mut pointer = String::new();
            for segment in err.path().iter() {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                    Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer(key))),
                    Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape_pointer(variant))),
                    Segment::Unknown => pointer.push_str("/?"),
                }
            }
            // A missing field is reported at its parent; point at the field itself.
            for prefix in ["missing field `"] {
                if let Some(rest) = message.strip_prefix(prefix)
                    && let Some((field, _)) = rest.split_once('`')
                {
                    pointer.push_str(&format!("/{}", escape_pointer(field)));
                }
            }
            let pointer = if pointer.is_empty() { "/".to_string() } else { pointer };
            ApiError::Invalid(Invalid::one(pointer, message))
        }
        Category::Eof if inner.line() == 1 && inner.column() == 0 => {
            ApiError::BadRequest("The request body is empty; send a JSON object.".into())
        }
        _ => ApiError::BadRequest(format!(
            "The request body is not valid JSON: {message} (line {}, column {}).",
            inner.line(),
            inner.column()
        )),
    }
}

/// Parses a JSON object into `T`. Every request body of the API is an object; serde would
/// also read a struct from an array, so anything else is refused first.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .map_err(|e| ApiError::BadRequest(format!("The request body is not valid JSON: {e}.")))?;
        return Err(ApiError::Invalid(Invalid::one("/", "the body must be a JSON object")));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| all_errors::<T>(body, json_error(e)))?;
    de.end().map_err(|e| ApiError::BadRequest(format!("The request body has data after the JSON value: {e}.")))?;
    Ok(value)
}

/// A body that is JSON but does not read as `T`: every violation of `T`'s documented schema
/// at once ([`super::body_schema`]), or serde's own error when the schema names none.
fn all_errors<T>(body: &[u8], first: ApiError) -> ApiError {
    if !matches!(first, ApiError::Invalid(_)) {
        return first;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return first };
    let errors = super::body_schema::violations::<T>(&value);
    if errors.is_empty() { first } else { ApiError::Invalid(Invalid { errors }) }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            if !content_type.is_some_and(is_json_media_type) {
                return Err(ApiError::UnsupportedMediaType(
                    "Send the body as JSON with `Content-Type: application/json`.".into(),
                ));
            }
            let limit = req.app_data::<web::Data<AppState>>().map_or(1024 * 1024, |s| s.settings.body_limit_bytes);
            let body = read_body(&req, &mut payload, limit).await?;
            parse(&body).map(Json)
        })
    }
}

/// For merge-patch members that may be `null`: absent → `None`, `null` → `Some(None)`,
/// a value → `Some(Some(value))`. Use with `#[serde(default, deserialize_with = ...)]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// For integer members: JSON Schema counts `1968.0` as the integer 1968, so it is read as one.
/// Use with `#[serde(default, deserialize_with = "crate::http::json::whole")]` on `Option<i32>`.
pub fn whole<'de, D>(deserializer: D) -> Result<Option<i32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)?;
    value
        .map(|n| whole_number(&n).ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number"))))
        .transpose()
}

/// [`whole`] for merge-patch members that may be `null`.
pub fn nullable_whole<'de, D>(deserializer: D) -> Result<Option<Option<i32>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    whole(deserializer).map(Some)
}

fn whole_number(n: &serde_json::Number) -> Option<i32> {
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).ok();
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX)).then_some(f as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    fn pointer_of(body: &str) -> (u16, String) {
        let err = parse::<Outer>(body.as_bytes()).unwrap_err();
        let problem = err.problem();
        (problem.status, problem.errors.first().map(|e| e.pointer.clone()).unwrap_or_default())
    }

    #[test]
    fn type_errors_point_at_the_member() {
        assert_eq!(pointer_of(r#"{"name":"x","items":[{"n":1},{"n":"two"}]}"#), (422, "/items/1/n".into()));
    }

    #[test]
    fn missing_and_unknown_fields_point_at_the_field() {
        assert_eq!(pointer_of(r#"{"items":[]}"#), (422, "/name".into()));
        assert_eq!(pointer_of(r#"{"name":"x","items":[],"admin":true}"#), (422, "/admin".into()));
    }

    #[derive(Debug, Deserialize)]
    struct Year {
        #[serde(default, deserialize_with = "whole")]
        year: Option<i32>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let year = |body: &str| parse::<Year>(body.as_bytes()).map(|y| y.year);
        assert_eq!(year(r#"{"year": 1968}"#).unwrap(), Some(1968));
        assert_eq!(year(r#"{"year": 1968.0}"#).unwrap(), Some(1968));
        assert_eq!(year(r#"{"year": null}"#).unwrap(), None);
        assert_eq!(year("{}").unwrap(), None);
        assert!(year(r#"{"year": 1968.5}"#).is_err());
        assert!(year(r#"{"year": "1968"}"#).is_err());
    }

    #[test]
    fn only_objects_are_bodies() {
        assert_eq!(pointer_of("[]"), (422, "/".into()));
        assert_eq!(pointer_of(" 3"), (422, "/".into()));
        assert_eq!(pointer_of("[1,").0, 400);
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert_eq!(pointer_of(r#"{"name":"x","#).0, 400);
        assert_eq!(pointer_of("").0, 400);
        assert_eq!(pointer_of(r#"{"name":"x","items":[]} trailing"#).0, 400);
    }

    #[test]
    fn json_media_types_include_structured_suffixes() {
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
    }
}
