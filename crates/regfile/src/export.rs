//! Writing a register back as register files, in the format `load` reads, so that
//! apply → export → apply changes nothing.

use crate::load::FORMAT;
use airisk_model::{Object, ObjectKind, Register};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

/// The files an export writes and the kinds each holds, in order.
pub const LAYOUT: [(&str, &[ObjectKind]); 7] = [
    (
        "register.yaml",
        &[
            ObjectKind::Settings,
            ObjectKind::Person,
            ObjectKind::Criteria,
        ],
    ),
    ("systems.yaml", &[ObjectKind::System]),
    ("risks.yaml", &[ObjectKind::Risk]),
    ("treatments.yaml", &[ObjectKind::Treatment]),
    ("screening.yaml", &[ObjectKind::Screening]),
    ("controls.yaml", &[ObjectKind::Control]),
    ("soa.yaml", &[ObjectKind::Soa]),
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render YAML for {file}: {message}")]
    Emit { file: String, message: String },
}

/// Renders the register as (file name, YAML text) pairs.
pub fn render(register: &Register) -> Result<Vec<(&'static str, String)>, ExportError> {
    let objects = register.objects();
    let mut out = Vec::with_capacity(LAYOUT.len());
    for (file, kinds) in LAYOUT {
        let mut doc = Map::new();
        doc.insert("format".into(), Value::String(FORMAT.into()));
        for kind in kinds {
            let values: Vec<Value> = objects
                .iter()
                .filter(|o| o.kind() == *kind)
                .map(Object::to_value)
                .collect();
            if *kind == ObjectKind::Settings {
                if let Some(settings) = values.into_iter().next() {
                    doc.insert(kind.file_key().into(), settings);
                }
            } else {
                doc.insert(kind.file_key().into(), Value::Array(values));
            }
        }
        let text = emit(&Value::Object(doc)).map_err(|message| ExportError::Emit {
            file: file.to_string(),
            message,
        })?;
        out.push((
            file,
            format!(
                "# airisk register ({FORMAT}). Apply with: airisk apply -f <this folder>\n{text}"
            ),
        ));
    }
    Ok(out)
}

/// Writes the register files into `dir` (created if needed). Each file is written to a
/// temporary name first and renamed, so a failed export never leaves half a file.
pub fn write_dir(register: &Register, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let rendered = render(register)?;
    let mut written = Vec::with_capacity(rendered.len());
    for (name, text) in rendered {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// Emits a JSON value as block-style YAML. Multi-line strings become literal blocks where
/// the emitter gets them right; the text is read back and, if any string would change,
/// emitted again with every string quoted, so what is written always reads back equal.
pub fn emit(value: &Value) -> Result<String, String> {
    let readable = emit_with(value, true)?;
    let reads_back = crate::yaml::parse(&readable)
        .ok()
        .and_then(|docs| docs.into_iter().next())
        .is_some_and(|doc| doc.value == *value);
    if reads_back {
        return Ok(readable);
    }
    emit_with(value, false)
}

fn emit_with(value: &Value, literal_blocks: bool) -> Result<String, String> {
    let yaml = to_yaml(value);
    let mut text = String::new();
    let mut emitter = YamlEmitter::new(&mut text);
    emitter.multiline_strings(literal_blocks);
    emitter.dump(&yaml).map_err(|e| format!("{e:?}"))?;
    let body = text.strip_prefix("---\n").unwrap_or(&text);
    Ok(format!("{body}\n"))
}

fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut hash = Hash::new();
            for (k, v) in map {
                hash.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(hash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use proptest::prelude::*;
    use serde_json::json;

    fn round_trip(value: &Value) -> Value {
        let text = emit(value).unwrap();
        let docs = yaml::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        docs.into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null)
    }

    #[test]
    fn tricky_strings_survive() {
        let value = json!({
            "a": "yes", "b": "true", "c": "3", "d": "2026-01-15", "e": "x: y", "f": "- item",
            "g": "line one\nline two\n", "h": "", "i": " leading", "j": "#hash", "k": "null",
            "l": "multi\n  indented\nend", "m": "quote's \"double\"", "n": "1e5", "o": "~",
            "p": "tab\there", "q": "trailing \n", "r": "ünïcödé — dash", "s": "@at", "t": "0x1F"
        });
        assert_eq!(round_trip(&value), value);
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|i| json!(i)),
            "[ -~\\n]{0,20}".prop_map(Value::String),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn emitted_yaml_reads_back_as_the_same_value(
            map in prop::collection::btree_map("[a-z_]{1,8}", arb_value(), 1..5)
        ) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert_eq!(round_trip(&value), value);
        }
    }
}
