//! Reading register files (one file or a folder of them) into register objects, with a
//! diagnostic for every problem that names the file, the object, the field and the line.

use crate::yaml::{self, Document};
use airisk_model::{Issue, Object, ObjectKind, ScreeningDecision, SETTINGS_ID};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The only file format version so far; files may say so with `format: airisk/v1`.
pub const FORMAT: &str = "airisk/v1";

/// A problem found in register files (or in the register they would produce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    /// `risk R-07`, when the problem belongs to an object.
    pub object: Option<(ObjectKind, String)>,
    pub field: Option<String>,
    pub message: String,
}

impl Diagnostic {
    fn in_file(file: &Path, line: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_path_buf()),
            line,
            object: None,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, _) => f.write_str("(stored register): ")?,
        }
        if let Some((kind, id)) = &self.object {
            write!(f, "{kind} {id}")?;
            if let Some(field) = self.field.as_deref().filter(|f| !f.is_empty()) {
                write!(f, ", field {field}")?;
            }
            f.write_str(": ")?;
        } else if let Some(field) = self.field.as_deref().filter(|f| !f.is_empty()) {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Where one object was defined.
#[derive(Debug, Clone)]
struct Origin {
    file: usize,
    document: usize,
    /// Path of the object inside its document, e.g. `risks[3]`.
    path: String,
}

/// Objects read from register files, with enough of their source to place any later
/// diagnostic on a line.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    files: Vec<(PathBuf, Vec<Document>)>,
    origins: HashMap<(ObjectKind, String), Origin>,
}

impl Loaded {
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// Places a register rule violation on the file and line that defined the object.
    /// Objects that were not in the files (already stored) get no file.
    pub fn locate(&self, issue: &Issue) -> Diagnostic {
        let mut diagnostic = Diagnostic {
            file: None,
            line: None,
            object: Some((issue.kind, issue.id.clone())),
            field: Some(issue.field.clone()),
            message: issue.message.clone(),
        };
        if let Some(origin) = self.origins.get(&(issue.kind, issue.id.clone())) {
            let (file, documents) = &self.files[origin.file];
            let path = if issue.field.is_empty() {
                origin.path.clone()
            } else if issue.field.starts_with('[') || origin.path.is_empty() {
                format!("{}{}", origin.path, issue.field)
            } else {
                format!("{}.{}", origin.path, issue.field)
            };
            diagnostic.file = Some(file.clone());
            diagnostic.line = documents[origin.document].line_of(&path);
        }
        diagnostic
    }
}

/// Reads a register file, or every `.yaml`/`.yml` file under a folder (sorted by path).
pub fn load_path(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let files =
        collect_files(path).map_err(|message| vec![Diagnostic::in_file(path, None, message)])?;
    let mut sources = Vec::with_capacity(files.len());
    let mut diagnostics = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => sources.push((file, text)),
            Err(e) => diagnostics.push(Diagnostic::in_file(
                &file,
                None,
                format!("cannot read: {e}"),
            )),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    load_sources(sources)
}

/// Reads register files given as (name, text) pairs, e.g. files embedded in the binary.
pub fn load_sources(sources: Vec<(PathBuf, String)>) -> Result<Loaded, Vec<Diagnostic>> {
    let mut loaded = Loaded::default();
    let mut diagnostics = Vec::new();
    for (file, text) in sources {
        match yaml::parse(&text) {
            Ok(documents) => {
                let index = loaded.files.len();
                loaded.files.push((file, documents));
                read_file(&mut loaded, index, &mut diagnostics);
            }
            Err(e) => diagnostics.push(Diagnostic::in_file(
                &file,
                Some(e.line),
                format!("invalid YAML: {}", e.message),
            )),
        }
    }
    if diagnostics.is_empty() {
        Ok(loaded)
    } else {
        Err(diagnostics)
    }
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open: {e}"))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err("no .yaml or .yml files found".to_string());
    }
    Ok(files)
}

fn read_file(loaded: &mut Loaded, file_index: usize, diagnostics: &mut Vec<Diagnostic>) {
    let file = loaded.files[file_index].0.clone();
    let documents: Vec<Value> = loaded.files[file_index]
        .1
        .iter()
        .map(|d| d.value.clone())
        .collect();
    for (doc_index, value) in documents.into_iter().enumerate() {
        let line_of = |path: &str| loaded_line(loaded, file_index, doc_index, path);
        let map = match value {
            Value::Null => continue,
            Value::Object(map) => map,
            _ => {
                diagnostics.push(Diagnostic::in_file(
                    &file,
                    line_of(""),
                    "a register file is a mapping with keys such as systems, risks, treatments",
                ));
                continue;
            }
        };
        let mut found = Vec::new();
        for (key, value) in map {
            if key == "format" {
                if value.as_str() != Some(FORMAT) {
                    diagnostics.push(Diagnostic::in_file(
                        &file,
                        line_of("format"),
                        format!("unsupported format {value}; this version reads `{FORMAT}`"),
                    ));
                }
                continue;
            }
            let Some(kind) = ObjectKind::ALL.into_iter().find(|k| k.file_key() == key) else {
                let expected: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.file_key()).collect();
                diagnostics.push(Diagnostic::in_file(
                    &file,
                    line_of(&key),
                    format!(
                        "unknown top-level key `{key}` (expected format, {})",
                        expected.join(", ")
                    ),
                ));
                continue;
            };
            match (kind, value) {
                (ObjectKind::Settings, value) => found.push((kind, key.clone(), value)),
                (_, Value::Array(items)) => {
                    for (i, item) in items.into_iter().enumerate() {
                        found.push((kind, format!("{key}[{i}]"), item));
                    }
                }
                (_, Value::Null) => {}
                _ => diagnostics.push(Diagnostic::in_file(
                    &file,
                    line_of(&key),
                    format!("`{key}` must be a list"),
                )),
            }
        }
        for (kind, path, value) in found {
            read_object(
                loaded,
                file_index,
                doc_index,
                kind,
                path,
                value,
                diagnostics,
            );
        }
    }
}

fn loaded_line(loaded: &Loaded, file: usize, doc: usize, path: &str) -> Option<usize> {
    loaded.files[file].1[doc].line_of(path)
}

fn read_object(
    loaded: &mut Loaded,
    file_index: usize,
    doc_index: usize,
    kind: ObjectKind,
    path: String,
    value: Value,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let file = loaded.files[file_index].0.clone();
    let label = object_label(kind, &value);
    let object = match Object::from_value(kind, value) {
        Ok(object) => object,
        Err(e) => {
            let field_path = if e.path.is_empty() {
                path.clone()
            } else if e.path.starts_with('[') {
                format!("{path}{}", e.path)
            } else {
                format!("{path}.{}", e.path)
            };
            diagnostics.push(Diagnostic {
                file: Some(file),
                line: loaded_line(loaded, file_index, doc_index, &field_path),
                object: Some((kind, label.unwrap_or_else(|| format!("at {path}")))),
                message: explain(&e.path, e.message),
                field: Some(e.path),
            });
            return;
        }
    };
    let key = (kind, object.id());
    if let Some(first) = loaded.origins.get(&key) {
        let (first_file, first_docs) = &loaded.files[first.file];
        let first_line = first_docs[first.document]
            .line_of(&first.path)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        diagnostics.push(Diagnostic {
            file: Some(file),
            line: loaded_line(loaded, file_index, doc_index, &path),
            object: Some(key.clone()),
            field: Some(if kind == ObjectKind::Settings {
                String::new()
            } else {
                "id".into()
            }),
            message: format!(
                "duplicate {}: {} is already defined at {}{first_line}",
                if kind == ObjectKind::Settings {
                    "settings"
                } else {
                    "id"
                },
                key.1,
                first_file.display()
            ),
        });
        return;
    }
    loaded.origins.insert(
        key,
        Origin {
            file: file_index,
            document: doc_index,
            path,
        },
    );
    loaded.objects.push(object);
}

/// Adds what was expected where the parser's own words are too terse (chrono's date errors).
fn explain(path: &str, message: String) -> String {
    const DATE_ERRORS: [&str; 4] = [
        "input is out of range",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
    ];
    if DATE_ERRORS.iter().any(|e| message.contains(e)) {
        let field = path.rsplit('.').next().unwrap_or(path);
        format!("{message}: `{field}` must be a real date written YYYY-MM-DD")
    } else {
        message
    }
}

/// A name for an object that failed to parse, so the message can still say which one.
fn object_label(kind: ObjectKind, value: &Value) -> Option<String> {
    match kind {
        ObjectKind::Settings => Some(SETTINGS_ID.to_string()),
        ObjectKind::Screening => {
            let system = value.get("system")?.as_str()?;
            let category = value.get("category")?.as_str()?;
            Some(match airisk_model::Category::parse(category) {
                Some(c) => ScreeningDecision::key(system, c),
                None => format!("{system}/{category}"),
            })
        }
        ObjectKind::Soa => value.get("item")?.as_str().map(str::to_string),
        _ => value.get("id")?.as_str().map(str::to_string),
    }
}
