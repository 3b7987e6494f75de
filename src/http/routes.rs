//! What no route serves: 405 with `Allow` when the path exists under other methods,
//! else 404; and the route template of a path, for metrics. The table is read from the
//! OpenAPI document the service serves, which a test keeps equal to the code's.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

/// Path templates and the methods each serves.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// The templates split into segments, by number of segments.
    templates: std::collections::HashMap<usize, Vec<Template>>,
}

#[derive(Debug)]
struct Template {
    path: String,
    /// `None`: a parameter.
    segments: Vec<Option<String>>,
    literals: usize,
    methods: Vec<Method>,
}

impl Template {
    fn new(path: &str, methods: Vec<Method>) -> Self {
        let segments: Vec<Option<String>> = path
            .split('/')
            .skip(1)
            .map(|s| if s.starts_with('{') && s.ends_with('}') { None } else { Some(s.to_string()) })
            .collect();
        let literals = segments.iter().filter(|s| s.is_some()).count();
        Template { path: path.to_string(), segments, literals, methods }
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.iter().zip(segments).all(|(t, s)| match t {
            Some(literal) => literal == s,
            None => !s.is_empty(),
        })
    }
}

/// What the table needs of an OpenAPI document: its paths and their operations' methods.
#[derive(serde::Deserialize)]
struct Paths {
    paths: std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
}

impl RouteTable {
    /// The table of an OpenAPI document in JSON (the one the service serves, [`crate::api::OPENAPI`]):
    /// only its paths and methods are read.
    pub fn from_spec(json: &[u8]) -> Result<Self, serde_json::Error> {
        let Paths { paths } = serde_json::from_slice(json)?;
        let mut templates: std::collections::HashMap<usize, Vec<Template>> = Default::default();
        let mut add = |template: Template| templates.entry(template.segments.len()).or_default().push(template);
        for (path, item) in &paths {
            let mut methods = Vec::new();
            if item.contains_key("get") {
                methods.extend([Method::GET, Method::HEAD]);
            }
            for (key, method) in
                [("post", Method::POST), ("put", Method::PUT), ("patch", Method::PATCH), ("delete", Method::DELETE)]
            {
                if item.contains_key(key) {
                    methods.push(method);
                }
            }
            add(Template::new(path, methods));
        }
        // Served outside the OpenAPI document.
        add(Template::new("/openapi.json", vec![Method::GET, Method::HEAD]));
        Ok(Self { templates })
    }

    /// The API route template `path` falls under (`/v1/people/{id}`), without the regular
    /// expressions of actix's own lookup (`HttpRequest::match_pattern` tries every route in
    /// turn): a segment is a literal or a parameter, and where two templates match, the one
    /// with more literal segments wins (`/v1/people/by-ref/...` over `/v1/people/{id}/...`).
    /// `None` for paths outside the OpenAPI document.
    pub fn template(&self, path: &str) -> Option<&str> {
        self.find(path).filter(|t| t.path != "/openapi.json").map(|t| t.path.as_str())
    }

    /// The methods served at `path`, if any route matches it.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.find(path).map(|t| t.methods.as_slice())
    }

    fn find(&self, path: &str) -> Option<&Template> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        self.templates.get(&segments.len())?.iter().filter(|t| t.matches(&segments)).max_by_key(|t| t.literals)
    }
}

/// Answers `HEAD` like `GET` without the body (RFC 9110 §9.3.2), for every route.
pub async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if req.method() != Method::HEAD {
        return next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_boxed_body);
    }
    req.head_mut().method = Method::GET;
    let res = next.call(req).await?;
    Ok(res.map_body(|_, _| actix_web::body::BoxBody::new(())))
}

/// The default service: 405 or 404 as problems.
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, actix_web::Error> {
    let error = match state.routes.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => ApiError::MethodNotAllowed(methods.to_vec()),
        _ => ApiError::not_found(format!("There is nothing at {}; see /docs for the API.", req.path())),
    };
    // SCIM clients read SCIM errors (with `Allow` kept on a 405).
    if req.path().starts_with("/scim/") {
        let allow = match &error {
            ApiError::MethodNotAllowed(methods) => {
                Some(methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "))
            }
            _ => None,
        };
        let mut res = actix_web::ResponseError::error_response(&crate::api::scim::ScimError::from(error));
        if let Some(allow) = allow.and_then(|a| actix_web::http::header::HeaderValue::from_str(&a).ok()) {
            res.headers_mut().insert(actix_web::http::header::ALLOW, allow);
        }
        return Ok(res);
    }
    Err(error.into())
}

#[cfg(test)]
mod tests {
    use actix_web::dev::ResourceDef;

    use super::*;

    fn table() -> (RouteTable, Vec<String>) {
        let doc = crate::api::openapi();
        let paths = doc.paths.paths.keys().cloned().collect();
        (RouteTable::from_spec(crate::api::OPENAPI).unwrap(), paths)
    }

    /// A path that `template` matches, with a value for each parameter.
    fn sample(template: &str) -> String {
        template
            .split('/')
            .map(|s| if s.starts_with('{') { "x-1".to_string() } else { s.to_string() })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn every_path_allows_the_methods_the_code_serves_there() {
        let doc = crate::api::openapi();
        let (routes, _) = table();
        for (path, item) in &doc.paths.paths {
            let mut expected = Vec::new();
            if item.get.is_some() {
                expected.extend([Method::GET, Method::HEAD]);
            }
            for (method, op) in [
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_some() {
                    expected.push(method);
                }
            }
            assert_eq!(routes.allowed(&sample(path)), Some(expected.as_slice()), "{path}");
        }
        assert_eq!(routes.allowed("/openapi.json"), Some([Method::GET, Method::HEAD].as_slice()));
        assert_eq!(routes.allowed("/v1/nothing/here"), None);
    }

    #[test]
    fn every_api_path_is_found_under_its_own_template() {
        let (routes, paths) = table();
        for path in paths {
            let sample = sample(&path);
            assert_eq!(routes.template(&sample), Some(path.as_str()), "{sample}");
            // Actix's own lookup agrees.
            assert!(ResourceDef::new(path.as_str()).is_match(&sample), "{sample}");
        }
    }

    #[test]
    fn literal_segments_win_over_parameters_and_other_paths_have_none() {
        let (routes, _) = table();
        assert_eq!(
            routes.template("/v1/organisations/by-ref/kbo/0123456789"),
            Some("/v1/organisations/by-ref/{system}/{external_id}")
        );
        assert_eq!(
            routes.template("/v1/organisations/0193a4d2-7c1e-7b35-9a51-3f0c2b9e8d12/clients/abc"),
            Some("/v1/organisations/{id}/clients/{client_id}")
        );
        assert_eq!(routes.template("/v1/people/"), None);
        assert_eq!(routes.template("/v1/nothing/here"), None);
        assert_eq!(routes.template("/docs/index.html"), None);
    }
}
