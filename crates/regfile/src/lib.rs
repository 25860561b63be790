//! Register as code: the YAML files a register can live in.
//!
//! What it is: reading register files (a file or a folder of them) into model objects,
//! with diagnostics that name the file, the object, the field and the line; writing a
//! register back into the same format (`apply → export → apply` is a fixed point); and
//! the JSON Schema of the format for editors.
//!
//! What it is not: it never touches the database and holds no register rules — those
//! live in `airisk-model`; this crate only places their findings on lines.

pub mod export;
pub mod load;
pub mod schema;
pub mod yaml;

pub use export::{render, write_dir, ExportError, LAYOUT};
pub use load::{load_path, load_sources, Diagnostic, Loaded, FORMAT};
pub use schema::register_file_schema;
