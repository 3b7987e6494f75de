//! What no route serves: 405 with `Allow` when the path exists under other methods,
//! else 404; and the route template of a path, for metrics. The table is built from the
//! OpenAPI document, so it cannot drift.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

/// Path templates and the methods each serves.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
    /// The templates split into segments (`None`: a parameter), by number of segments.
    templates: std::collections::HashMap<usize, Vec<Template>>,
}

#[derive(Debug)]
struct Template {
    path: String,
    segments: Vec<Option<String>>,
    literals: usize,
}

impl Template {
    fn new(path: &str) -> Self {
        let segments: Vec<Option<String>> = path
            .split('/')
            .skip(1)
            .map(|s| if s.starts_with('{') && s.ends_with('}') { None } else { Some(s.to_string()) })
            .collect();
        let literals = segments.iter().filter(|s| s.is_some()).count();
        Template { path: path.to_string(), segments, literals }
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.iter().zip(segments).all(|(t, s)| match t {
            Some(literal) => literal == s,
            None => !s.is_empty(),
        })
    }
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &doc.paths.paths {
            let mut methods = Vec::new();
            if item.get.is_some() {
                methods.push(Method::GET);
                methods.push(Method::HEAD);
            }
            for (method, op) in [
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_some() {
                    methods.push(method);
                }
            }
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        // Served outside the OpenAPI document.
        routes.push((ResourceDef::new("/openapi.json"), vec![Method::GET, Method::HEAD]));
        let mut templates: std::collections::HashMap<usize, Vec<Template>> = Default::default();
        for path in doc.paths.paths.keys() {
            let template = Template::new(path);
            templates.entry(template.segments.len()).or_default().push(template);
        }
        Self { routes, templates }
    }

    /// The API route template `path` falls under (`/v1/people/{id}`), without the regular
    /// expressions of actix's own lookup (`HttpRequest::match_pattern` tries every route in
    /// turn): a segment is a literal or a parameter, and where two templates match, the one
    /// with more literal segments wins (`/v1/people/by-ref/...` over `/v1/people/{id}/...`).
    /// `None` for paths outside the OpenAPI document.
    pub fn template(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        self.templates
            .get(&segments.len())?
            .iter()
            .filter(|t| t.matches(&segments))
            .max_by_key(|t| t.literals)
            .map(|t| t.path.as_str())
    }

    /// The methods served at `path`, if any route matches it.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.routes.iter().find(|(def, _)| def.is_match(path)).map(|(_, methods)| methods.as_slice())
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
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Err(match state.routes.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => ApiError::MethodNotAllowed(methods.to_vec()),
        _ => ApiError::not_found(format!("There is nothing at {}; see /docs for the API.", req.path())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (RouteTable, Vec<String>) {
        let doc = crate::api::openapi();
        let paths = doc.paths.paths.keys().cloned().collect();
        (RouteTable::from_openapi(&doc), paths)
    }

    #[test]
    fn every_api_path_is_found_under_its_own_template() {
        let (routes, paths) = table();
        for path in paths {
            let sample: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x-1".to_string() } else { s.to_string() })
                .collect::<Vec<_>>()
                .join("/");
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
