//! [`Check`]: one condition a decision looked at, passed or not. Gates and
//! the disk guard list their checks with it.

use serde::{Deserialize, Serialize};

/// One condition a decision checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// Stable id of the condition.
    pub rule: String,
    /// Whether it holds.
    pub passed: bool,
    /// What was found, naming files, values and thresholds.
    pub message: String,
}

impl Check {
    /// A check with an explicit outcome.
    pub fn new(rule: &str, passed: bool, message: String) -> Self {
        Check {
            rule: rule.into(),
            passed,
            message,
        }
    }

    /// A passed check.
    pub fn pass(rule: &str, message: String) -> Self {
        Check::new(rule, true, message)
    }

    /// A failed check.
    pub fn fail(rule: &str, message: String) -> Self {
        Check::new(rule, false, message)
    }
}
