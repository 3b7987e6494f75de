//! Opaque, tamper-proof cursors and list responses with `Link: <...>; rel="next"`.
//!
//! A cursor is the keyset of the last row, signed with HMAC-SHA256 over the query it
//! belongs to (resource, filters and sort). A client can neither edit it nor use it with
//! another query: both answer 400.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::ToSchema;

use crate::db::Keyset;
use crate::db::page::{Page, Sort, SortField};
use crate::error::ApiError;
use crate::http::page_cache::CachedPage;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// Signs and checks cursors.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl CursorCodec {
    /// Derives the cursor key from the token secret, so every instance shares it.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"vov cursor key v1");
        let mut key = [0u8; 32];
        key.copy_from_slice(&mac.finalize().into_bytes());
        Self { key }
    }

    fn tag(&self, query: &str, payload: &str) -> Vec<u8> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(query.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }

    pub fn encode(&self, query: &str, keyset: &Keyset) -> String {
        self.encode_value(query, keyset)
    }

    pub fn decode(&self, query: &str, cursor: &str) -> Result<Keyset, ApiError> {
        self.decode_value(query, cursor)
    }

    /// Signs any position (the change feed's sequence number, for instance).
    pub fn encode_value<T: Serialize>(&self, query: &str, value: &T) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("positions serialise"));
        let tag = URL_SAFE_NO_PAD.encode(self.tag(query, &payload));
        format!("{payload}.{tag}")
    }

    pub fn decode_value<T: serde::de::DeserializeOwned>(&self, query: &str, cursor: &str) -> Result<T, ApiError> {
        let refuse = || {
            ApiError::BadRequest(
                "`cursor` is not a cursor for this query; pass `next_cursor` from the previous page unchanged, with the same filters and sort."
                    .into(),
            )
        };
        let (payload, tag) = cursor.split_once('.').ok_or_else(refuse)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refuse())?;
        // Constant-time comparison of the full 16-byte tag; any other length is refused.
        if tag.len() != 16 || !bool::from(subtle::ConstantTimeEq::ct_eq(&tag[..], &self.tag(query, payload)[..])) {
            return Err(refuse());
        }
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refuse())?;
        serde_json::from_slice(&bytes).map_err(|_| refuse())
    }
}

/// A parsed list request: page size, sort, and where to continue.
#[derive(Debug, Clone)]
pub struct PageRequest<F> {
    pub limit: usize,
    pub sort: Sort<F>,
    pub after: Option<Keyset>,
    /// The canonical query the cursor is bound to.
    pub query: String,
}

impl<F: SortField> PageRequest<F> {
    /// Checks `limit` and `sort`, and verifies `cursor` against `query` (a canonical text
    /// of the resource and its filters; the sort is added here).
    pub fn parse(
        codec: &CursorCodec,
        query: String,
        limit: Option<i64>,
        sort: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Self, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(n) => {
                return Err(ApiError::BadRequest(format!("`limit` must be between 1 and {MAX_LIMIT} (got {n}).")));
            }
        };
        let sort: Sort<F> = match sort {
            None => Sort::default(),
            Some(s) => Sort::parse(s).map_err(|e| ApiError::BadRequest(format!("{e}.")))?,
        };
        let query = format!("{query}&sort={}", sort.as_param());
        // An empty cursor is the first page, as if none were given.
        let after = cursor.filter(|c| !c.is_empty()).map(|c| codec.decode(&query, c)).transpose()?;
        if after.as_ref().is_some_and(|k| !sort.field.accepts(&k.value)) {
            return Err(ApiError::BadRequest("`cursor` does not fit this sort order.".into()));
        }
        Ok(Self { limit, sort, after, query })
    }
}

/// The query of a list that has only pages: `limit` and `cursor`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
}

/// The JSON Schema pattern of `q`: no control characters ([`parse_q`] refuses exactly these).
pub const Q_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// The `q` of a list: at most `max` characters, no control characters; blank means none.
pub fn parse_q(q: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(q) = q else { return Ok(None) };
    if q.chars().count() > max {
        return Err(ApiError::BadRequest(format!("`q` must be at most {max} characters.")));
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("`q` must not contain control characters.".into()));
    }
    let q = q.trim();
    Ok((!q.is_empty()).then(|| q.to_string()))
}

/// A filter renamed after the body field it matches (`organisation` became `organisation_id`):
/// the new name, or the old one, still read but deprecated. When both are given the new one
/// counts: the old name is an alias, and each alone is a valid request, so both together are
/// too.
pub fn renamed<T>(new: Option<T>, old: Option<T>) -> Option<T> {
    new.or(old)
}

/// A page of a list, as every list endpoint answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    /// The items of this page, in the requested order.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Answers a page: the body, and a `Link` header to the next page when there is one.
pub fn respond_page<T, U: Serialize, F>(
    req: &HttpRequest,
    codec: &CursorCodec,
    request: &PageRequest<F>,
    page: Page<T>,
    view: impl FnMut(T) -> U,
) -> HttpResponse {
    respond_rendered(req, &render_page(codec, request, page, view))
}

/// Renders a page: its JSON body and its `next_cursor`.
pub fn render_page<T, U: Serialize, F>(
    codec: &CursorCodec,
    request: &PageRequest<F>,
    page: Page<T>,
    view: impl FnMut(T) -> U,
) -> CachedPage {
    let next_cursor = page.next.as_ref().map(|k| codec.encode(&request.query, k));
    let body = ListResponse { data: page.items.into_iter().map(view).collect(), next_cursor: next_cursor.clone() };
    CachedPage { body: serde_json::to_vec(&body).unwrap_or_default().into(), next_cursor }
}

/// A page's `ETag`: a hash of its body, the same on every instance of one build. Weak: it
/// says the content is the same, which is what `If-None-Match` asks.
pub fn page_etag(body: &[u8]) -> String {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(body);
    format!("W/\"{:016x}\"", hasher.finish())
}

/// Whether `If-None-Match` names `tag` (weak comparison) or is `*`.
pub fn none_match(req: &HttpRequest, tag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || opaque(t) == opaque(tag))
}

/// Answers a rendered page, with a `Link` header to the next page when there is one, and
/// its `ETag`: `304 Not Modified` when `If-None-Match` names it (nothing on the page changed).
pub fn respond_rendered(req: &HttpRequest, page: &CachedPage) -> HttpResponse {
    let tag = page_etag(&page.body);
    if none_match(req, &tag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, tag));
    if let Some(cursor) = &page.next_cursor {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "cursor");
        pairs.push(("cursor".into(), cursor.clone()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        res.insert_header((header::LINK, format!("<{}?{query}>; rel=\"next\"", req.path())));
    }
    res.content_type("application/json").body(page.body.clone())
}

/// The `sort` parameter's schema: the allowed fields, ascending and descending.
pub fn sort_schema<F: SortField>() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    let values: Vec<String> = F::ALL.iter().flat_map(|f| [f.name().to_string(), format!("-{}", f.name())]).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .default(Some(serde_json::json!(F::ALL[0].name())))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::SortValue;
    use uuid::Uuid;

    fn keyset() -> Keyset {
        Keyset { value: SortValue::Text("informal-learning".into()), id: Uuid::now_v7() }
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_query() {
        let codec = CursorCodec::new(b"secret");
        let k = keyset();
        let c = codec.encode("themes?q=&sort=slug", &k);
        assert_eq!(codec.decode("themes?q=&sort=slug", &c).unwrap(), k);
    }

    #[test]
    fn a_cursor_is_refused_for_another_query_or_when_edited() {
        let codec = CursorCodec::new(b"secret");
        let c = codec.encode("themes?q=&sort=slug", &keyset());
        assert!(codec.decode("themes?q=x&sort=slug", &c).is_err());
        let forged = {
            let (payload, tag) = c.split_once('.').unwrap();
            let mut k: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            k["v"]["s"] = "a".into();
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&k).unwrap()))
        };
        assert!(codec.decode("themes?q=&sort=slug", &forged).is_err());
        assert!(codec.decode("themes?q=&sort=slug", "garbage").is_err());
        // A shortened tag is refused, not checked on its prefix only.
        let (payload, tag) = c.split_once('.').unwrap();
        let short = URL_SAFE_NO_PAD.encode(&URL_SAFE_NO_PAD.decode(tag).unwrap()[..1]);
        assert!(codec.decode("themes?q=&sort=slug", &format!("{payload}.{short}")).is_err());
        assert!(CursorCodec::new(b"other").decode("themes?q=&sort=slug", &c).is_err());
    }
}
