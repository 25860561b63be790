//! People who own systems, risks and treatments, or approve acceptances.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Short stable handle, e.g. `a.khan`.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Job title or function, e.g. `Head of AI Governance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
