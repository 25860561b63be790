//! The OpenAPI 3.1 document, generated from the route table and the types' JSON Schemas.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// Produces a type's schema with a generator (so shared types land in `components`).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One route's documentation.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Which roles may call it, in words.
    pub access: &'static str,
    /// An object schema whose properties are the query parameters.
    pub query: Option<SchemaFn>,
    pub request: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
}

fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.into_generator()
}

/// The query parameters of an object schema (resolving a `$ref` into `defs`).
fn query_parameters(schema: &Schema, defs: &Map<String, Value>) -> Vec<Value> {
    let mut value = schema.as_value().clone();
    if let Some(name) = value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        value = defs.get(name).cloned().unwrap_or(Value::Null);
    }
    let required: Vec<&str> = value
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    value
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, schema)| {
                    let mut p = json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": schema,
                    });
                    if let Some(d) = schema.get("description") {
                        p["description"] = d.clone();
                    }
                    p
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn document<H>(routes: &[(RouteDoc, H)]) -> Value {
    let mut generator = generator();
    let problem = generator.subschema_for::<crate::problem::Problem>();
    let mut paths: Map<String, Value> = Map::new();
    let mut queries = Vec::new();
    for (doc, _) in routes {
        let mut op = json!({
            "summary": doc.summary,
            "description": format!("Access: {}.", doc.access),
            "tags": [doc.tag],
            "operationId": format!("{}_{}", doc.method, doc.path.trim_start_matches("/api/").replace(['/', '{', '}', '.'], "_")),
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": doc.response.map_or(json!({}), |f| f(&mut generator).to_value())}}},
                "default": {"description": "A problem (RFC 9457)", "content": {"application/problem+json": {"schema": problem.as_value()}}},
            },
        });
        if doc.access != "public" {
            op["security"] = json!([{"bearer": []}, {"session": []}]);
        } else {
            op["security"] = json!([]);
        }
        let mut parameters: Vec<Value> = doc
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if let Some(query) = doc.query {
            queries.push((doc.path, doc.method, query(&mut generator)));
        }
        if let Some(request) = doc.request {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": request(&mut generator).to_value()}},
            });
        }
        if !parameters.is_empty() {
            op["parameters"] = Value::Array(std::mem::take(&mut parameters));
        }
        paths
            .entry(doc.path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|item| item.insert(doc.method.to_string(), op));
    }
    let defs = generator.take_definitions(true);
    for (path, method, schema) in queries {
        let params = query_parameters(&schema, &defs);
        if let Some(op) = paths.get_mut(path).and_then(|p| p.get_mut(method)) {
            let list = op
                .as_object_mut()
                .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
            if let Some(Value::Array(list)) = list {
                list.extend(params);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "airisk API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The AI system inventory, risk register, controls, Statement of Applicability, evidence and tamper-evident ledger of airisk. Errors are RFC 9457 problem details. Authenticate with an API token (`Authorization: Bearer TOKEN`, from POST /api/tokens or `airisk user token`) or a browser session (unsafe methods then need the `X-CSRF-Token` header).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
        },
    })
}
