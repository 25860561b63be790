//! A register object of any kind, as one value: what files, storage and plans pass around.

use crate::control::{Control, SoaDecision};
use crate::criteria::CriteriaSet;
use crate::object::ObjectKind;
use crate::person::Person;
use crate::risk::Risk;
use crate::screening::ScreeningDecision;
use crate::settings::{Settings, SETTINGS_ID};
use crate::system::AiSystem;
use crate::treatment::Treatment;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Settings(Settings),
    Person(Person),
    Criteria(CriteriaSet),
    System(AiSystem),
    Risk(Risk),
    Treatment(Treatment),
    Screening(ScreeningDecision),
    Control(Control),
    Soa(SoaDecision),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Settings(_) => ObjectKind::Settings,
            Object::Person(_) => ObjectKind::Person,
            Object::Criteria(_) => ObjectKind::Criteria,
            Object::System(_) => ObjectKind::System,
            Object::Risk(_) => ObjectKind::Risk,
            Object::Treatment(_) => ObjectKind::Treatment,
            Object::Screening(_) => ObjectKind::Screening,
            Object::Control(_) => ObjectKind::Control,
            Object::Soa(_) => ObjectKind::Soa,
        }
    }

    pub fn id(&self) -> String {
        match self {
            Object::Settings(_) => SETTINGS_ID.to_string(),
            Object::Person(o) => o.id.clone(),
            Object::Criteria(o) => o.id.clone(),
            Object::System(o) => o.id.clone(),
            Object::Risk(o) => o.id.clone(),
            Object::Treatment(o) => o.id.clone(),
            Object::Screening(o) => o.id(),
            Object::Control(o) => o.id.clone(),
            Object::Soa(o) => o.item.clone(),
        }
    }

    /// The canonical JSON form: defaults filled in, empty optional fields left out.
    /// Two objects are the same exactly when their canonical forms are equal.
    pub fn to_value(&self) -> Value {
        let result = match self {
            Object::Settings(o) => serde_json::to_value(o),
            Object::Person(o) => serde_json::to_value(o),
            Object::Criteria(o) => serde_json::to_value(o),
            Object::System(o) => serde_json::to_value(o),
            Object::Risk(o) => serde_json::to_value(o),
            Object::Treatment(o) => serde_json::to_value(o),
            Object::Screening(o) => serde_json::to_value(o),
            Object::Control(o) => serde_json::to_value(o),
            Object::Soa(o) => serde_json::to_value(o),
        };
        // Serialising these plain data types cannot fail: no maps with non-string keys.
        result.unwrap_or(Value::Null)
    }

    /// Reads an object of a known kind from JSON, reporting the path of a bad field.
    pub fn from_value(kind: ObjectKind, value: Value) -> Result<Object, FieldError> {
        fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, FieldError> {
            serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                FieldError {
                    path: if path == "." { String::new() } else { path },
                    message: e.into_inner().to_string(),
                }
            })
        }
        Ok(match kind {
            ObjectKind::Settings => Object::Settings(read(value)?),
            ObjectKind::Person => Object::Person(read(value)?),
            ObjectKind::Criteria => Object::Criteria(read(value)?),
            ObjectKind::System => Object::System(read(value)?),
            ObjectKind::Risk => Object::Risk(read(value)?),
            ObjectKind::Treatment => Object::Treatment(read(value)?),
            ObjectKind::Screening => Object::Screening(read(value)?),
            ObjectKind::Control => Object::Control(read(value)?),
            ObjectKind::Soa => Object::Soa(read(value)?),
        })
    }
}

/// A field that could not be read: its dotted path inside the object (empty for the
/// object itself) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}
