//! A small JSON-schema validator for tool arguments, compiled once at policy load.
//!
//! Supported keywords: `type` (string or list), `properties`, `required`,
//! `additionalProperties` (boolean), `items`, `enum`, `const`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `pattern` (regex crate),
//! `minItems`, `maxItems`. Any other keyword is rejected at load time rather than silently ignored.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::error::{GuardError, Result};

/// A compiled schema node.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    types: Option<Vec<String>>,
    properties: BTreeMap<String, Schema>,
    required: Vec<String>,
    additional: bool,
    items: Option<Box<Schema>>,
    enumeration: Option<Vec<Value>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: Option<f64>,
    exclusive_maximum: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<Regex>,
    min_items: Option<usize>,
    max_items: Option<usize>,
}

const TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

fn num(v: &Value, path: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| GuardError::policy(path, "must be a number"))
}

fn count(v: &Value, path: &str) -> Result<usize> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| GuardError::policy(path, "must be a non-negative integer"))
}

impl Schema {
    /// Compiles a schema; `path` locates it in the policy for error messages.
    pub fn compile(v: &Value, path: &str) -> Result<Schema> {
        let obj = v
            .as_object()
            .ok_or_else(|| GuardError::policy(path, "a schema must be an object"))?;
        let mut s = Schema {
            additional: true,
            ..Default::default()
        };
        for (k, val) in obj {
            let p = format!("{path}.{k}");
            match k.as_str() {
                "type" => {
                    let list: Vec<String> = match val {
                        Value::String(t) => vec![t.clone()],
                        Value::Array(a) => a
                            .iter()
                            .map(|x| x.as_str().unwrap_or("").to_string())
                            .collect(),
                        _ => {
                            return Err(GuardError::policy(
                                p,
                                "must be a string or a list of strings",
                            ))
                        }
                    };
                    if let Some(bad) = list.iter().find(|t| !TYPES.contains(&t.as_str())) {
                        return Err(GuardError::policy(p, format!("unknown type `{bad}`")));
                    }
                    s.types = Some(list);
                }
                "properties" => {
                    let props = val
                        .as_object()
                        .ok_or_else(|| GuardError::policy(&p, "must be an object"))?;
                    for (name, sub) in props {
                        s.properties
                            .insert(name.clone(), Schema::compile(sub, &format!("{p}.{name}"))?);
                    }
                }
                "required" => {
                    let arr = val
                        .as_array()
                        .ok_or_else(|| GuardError::policy(&p, "must be a list"))?;
                    for (i, r) in arr.iter().enumerate() {
                        s.required.push(
                            r.as_str()
                                .ok_or_else(|| {
                                    GuardError::policy(format!("{p}[{i}]"), "must be a string")
                                })?
                                .to_string(),
                        );
                    }
                }
                "additionalProperties" => {
                    s.additional = val
                        .as_bool()
                        .ok_or_else(|| GuardError::policy(&p, "only booleans are supported"))?;
                }
                "items" => s.items = Some(Box::new(Schema::compile(val, &p)?)),
                "enum" => {
                    s.enumeration = Some(
                        val.as_array()
                            .ok_or_else(|| GuardError::policy(&p, "must be a list"))?
                            .clone(),
                    )
                }
                "const" => s.enumeration = Some(vec![val.clone()]),
                "minimum" => s.minimum = Some(num(val, &p)?),
                "maximum" => s.maximum = Some(num(val, &p)?),
                "exclusiveMinimum" => s.exclusive_minimum = Some(num(val, &p)?),
                "exclusiveMaximum" => s.exclusive_maximum = Some(num(val, &p)?),
                "minLength" => s.min_length = Some(count(val, &p)?),
                "maxLength" => s.max_length = Some(count(val, &p)?),
                "minItems" => s.min_items = Some(count(val, &p)?),
                "maxItems" => s.max_items = Some(count(val, &p)?),
                "pattern" => {
                    let pat = val
                        .as_str()
                        .ok_or_else(|| GuardError::policy(&p, "must be a string"))?;
                    s.pattern =
                        Some(Regex::new(pat).map_err(|e| GuardError::policy(&p, e.to_string()))?);
                }
                "description" | "title" | "$schema" | "default" | "examples" => {}
                other => {
                    return Err(GuardError::policy(
                        p,
                        format!("unsupported schema keyword `{other}`"),
                    ))
                }
            }
        }
        Ok(s)
    }

    /// Validates `v`, pushing `(json_pointer, message)` for each violation (at most 32).
    pub fn validate(&self, v: &Value, ptr: &str, errors: &mut Vec<(String, String)>) {
        if errors.len() >= 32 {
            return;
        }
        if let Some(types) = &self.types {
            let ok = types.iter().any(|t| match t.as_str() {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "number" => v.is_number(),
                "integer" => {
                    v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                _ => false,
            });
            if !ok {
                errors.push((
                    ptr.to_string(),
                    format!("expected type {}", types.join("|")),
                ));
                return;
            }
        }
        if let Some(e) = &self.enumeration {
            if !e.contains(v) {
                errors.push((ptr.to_string(), "value not in enum".into()));
            }
        }
        if let Some(n) = v.as_f64() {
            if self.minimum.is_some_and(|m| n < m) || self.exclusive_minimum.is_some_and(|m| n <= m)
            {
                errors.push((ptr.to_string(), "below minimum".into()));
            }
            if self.maximum.is_some_and(|m| n > m) || self.exclusive_maximum.is_some_and(|m| n >= m)
            {
                errors.push((ptr.to_string(), "above maximum".into()));
            }
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count();
            if self.min_length.is_some_and(|m| len < m) || self.max_length.is_some_and(|m| len > m)
            {
                errors.push((ptr.to_string(), "string length out of range".into()));
            }
            if let Some(p) = &self.pattern {
                if !p.is_match(s) {
                    errors.push((ptr.to_string(), "does not match pattern".into()));
                }
            }
        }
        if let Some(a) = v.as_array() {
            if self.min_items.is_some_and(|m| a.len() < m)
                || self.max_items.is_some_and(|m| a.len() > m)
            {
                errors.push((ptr.to_string(), "item count out of range".into()));
            }
            if let Some(items) = &self.items {
                for (i, x) in a.iter().enumerate() {
                    items.validate(x, &format!("{ptr}/{i}"), errors);
                }
            }
        }
        if let Some(o) = v.as_object() {
            for r in &self.required {
                if !o.contains_key(r) {
                    errors.push((format!("{ptr}/{r}"), "required property missing".into()));
                }
            }
            for (k, x) in o {
                match self.properties.get(k) {
                    Some(sub) => sub.validate(x, &format!("{ptr}/{k}"), errors),
                    None if !self.additional => errors.push((
                        format!("{ptr}/{k}"),
                        "additional property not allowed".into(),
                    )),
                    None => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validates_common_keywords() {
        let s = Schema::compile(
            &json!({"type": "object", "required": ["order_id", "amount"], "additionalProperties": false,
                    "properties": {"order_id": {"type": "string", "pattern": "^ORD-[0-9]+$"},
                                   "amount": {"type": "number", "minimum": 0, "maximum": 500},
                                   "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2}}}),
            "schema",
        )
        .unwrap();
        let mut e = Vec::new();
        s.validate(
            &json!({"order_id": "ORD-12", "amount": 20, "tags": ["a"]}),
            "",
            &mut e,
        );
        assert!(e.is_empty(), "{e:?}");
        s.validate(
            &json!({"order_id": "12", "amount": 900, "tags": ["c"], "x": 1}),
            "",
            &mut e,
        );
        let mut ptrs: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
        ptrs.sort_unstable();
        assert_eq!(ptrs, vec!["/amount", "/order_id", "/tags/0", "/x"]);
    }

    #[test]
    fn rejects_unknown_keyword_with_path() {
        let err = Schema::compile(&json!({"type": "object", "oneOf": []}), "tools[0].schema")
            .unwrap_err();
        assert!(err.to_string().contains("tools[0].schema.oneOf"));
    }
}
