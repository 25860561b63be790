//! YAML text to JSON values, remembering the line of every field so that errors found
//! later (by serde or by register rules) can point at the line.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML document as a JSON value, with the line of each path in it.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    /// Path (`risks[3].inherent.likelihood`) → 1-based line.
    pub lines: HashMap<String, usize>,
}

impl Document {
    /// The line of `path`, or of its nearest enclosing path that has one.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Parses every document of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: e.marker().line(),
        message: e.info().to_string(),
    })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.documents)
}

enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
        path: String,
    },
    Mapping {
        map: Map<String, Value>,
        pending_key: Option<String>,
        anchor: usize,
        path: String,
    },
}

#[derive(Default)]
struct Builder {
    documents: Vec<Document>,
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError { line, message });
        }
    }

    /// The path the next value will have, recording its line. For a mapping that is
    /// waiting for a key, returns `None`: the next scalar is the key.
    fn next_path(&mut self, line: usize) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Sequence { items, path, .. }) => {
                let p = format!("{path}[{}]", items.len());
                self.lines.insert(p.clone(), line);
                Some(p)
            }
            Some(Frame::Mapping {
                pending_key: Some(key),
                path,
                ..
            }) => Some(if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            }),
            Some(Frame::Mapping {
                pending_key: None, ..
            }) => None,
        }
    }

    fn push_value(&mut self, value: Value, anchor: usize, line: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping {
                map, pending_key, ..
            }) => match pending_key.take() {
                Some(key) => {
                    map.insert(key, value);
                }
                None => {
                    // A key: only scalars make sensible keys in register files.
                    let key = match value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_string(),
                        _ => {
                            self.fail(line, "a mapping key must be a plain value".into());
                            return;
                        }
                    };
                    if map.contains_key(&key) {
                        self.fail(line, format!("duplicate key `{key}`"));
                        return;
                    }
                    *pending_key = Some(key);
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        match event {
            Event::DocumentStart => {
                self.root = None;
                self.lines.clear();
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                let value = self.root.take().unwrap_or(Value::Null);
                self.documents.push(Document {
                    value,
                    lines: std::mem::take(&mut self.lines),
                });
            }
            Event::Scalar(text, style, anchor, tag) => match self.next_path(line) {
                None => {
                    // A mapping key: remember where the field starts.
                    let path = match self.stack.last() {
                        Some(Frame::Mapping { path, .. }) if !path.is_empty() => {
                            format!("{path}.{text}")
                        }
                        _ => text.clone(),
                    };
                    self.lines.insert(path, line);
                    self.push_value(Value::String(text), anchor, line);
                }
                Some(_) => {
                    let value =
                        resolve_scalar(text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                    self.push_value(value, anchor, line);
                }
            },
            Event::SequenceStart(anchor, _) => {
                let path = self.next_path(line).unwrap_or_default();
                if self.matches_key_position() {
                    self.fail(line, "a mapping key must be a plain value".into());
                    return;
                }
                self.lines.entry(path.clone()).or_insert(line);
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    anchor,
                    path,
                });
            }
            Event::MappingStart(anchor, _) => {
                if self.matches_key_position() {
                    self.fail(line, "a mapping key must be a plain value".into());
                    return;
                }
                let path = self.next_path(line).unwrap_or_default();
                self.lines.entry(path.clone()).or_insert(line);
                self.stack.push(Frame::Mapping {
                    map: Map::new(),
                    pending_key: None,
                    anchor,
                    path,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence { items, anchor, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Mapping { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => return,
                };
                self.push_value(value, anchor, line);
            }
            Event::Alias(id) => {
                if self.matches_key_position() {
                    self.fail(line, "a mapping key must be a plain value".into());
                    return;
                }
                let _ = self.next_path(line);
                match self.anchors.get(&id).cloned() {
                    Some(value) => self.push_value(value, 0, line),
                    None => self.fail(line, "alias to an unknown anchor".into()),
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

impl Builder {
    fn matches_key_position(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Mapping {
                pending_key: None,
                ..
            })
        )
    }
}

/// YAML 1.2 core schema resolution for plain scalars; quoted scalars stay strings.
/// Dates are left as strings: the model reads them as `YYYY-MM-DD`.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> Value {
    if style != TScalarStyle::Plain || tag == Some("str") {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(&text) {
        return Value::Number(n);
    }
    if looks_like_float(&text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text)
}

fn parse_int(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(value))
    } else {
        Some(Number::from(magnitude))
    }
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_lines_of_keys_and_items() {
        let docs = parse("risks:\n  - id: R-1\n    inherent:\n      likelihood: 7\n  - id: R-2\n")
            .unwrap();
        let doc = &docs[0];
        assert_eq!(
            doc.value,
            json!({"risks": [{"id": "R-1", "inherent": {"likelihood": 7}}, {"id": "R-2"}]})
        );
        assert_eq!(doc.lines.get("risks"), Some(&1));
        assert_eq!(doc.lines.get("risks[0]"), Some(&2));
        assert_eq!(doc.lines.get("risks[0].inherent.likelihood"), Some(&4));
        assert_eq!(doc.lines.get("risks[1]"), Some(&5));
        assert_eq!(doc.line_of("risks[0].inherent.rationale"), Some(3));
    }

    #[test]
    fn resolves_plain_scalars_like_yaml_1_2_core() {
        let docs =
            parse("a: 3\nb: '3'\nc: true\nd: ~\ne: 2026-01-15\nf: 1.5\ng: yes\nh: -4\n").unwrap();
        assert_eq!(
            docs[0].value,
            json!({"a": 3, "b": "3", "c": true, "d": null, "e": "2026-01-15", "f": 1.5, "g": "yes", "h": -4})
        );
    }

    #[test]
    fn duplicate_keys_are_an_error_with_their_line() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("duplicate key `a`"), "{err}");
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1);
    }

    #[test]
    fn anchors_and_aliases_expand() {
        let docs = parse("x: &v {k: 1}\ny: *v\n").unwrap();
        assert_eq!(docs[0].value, json!({"x": {"k": 1}, "y": {"k": 1}}));
    }

    #[test]
    fn several_documents() {
        let docs = parse("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].lines.get("b"), Some(&3));
    }
}
