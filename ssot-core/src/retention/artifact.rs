//! The artifacts retention decides about, and which ids it can handle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether an artifact is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ArtifactState {
    /// Finished; takes part in the rules and counts as a copy.
    #[default]
    Complete,
    /// Still being written, or interrupted.
    Partial,
    /// Known to be broken.
    Failed,
}

impl ArtifactState {
    /// `complete`, `partial` or `failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ArtifactState::Complete => "complete",
            ArtifactState::Partial => "partial",
            ArtifactState::Failed => "failed",
        }
    }
}

/// A backup, snapshot or cache layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Unique id; for directory sources, the entry name.
    pub id: String,
    /// Creation time.
    #[serde(deserialize_with = "crate::time::deserialize_utc")]
    pub created_at: DateTime<Utc>,
    /// Size, when known.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// `complete` (default), `partial` or `failed`.
    #[serde(default)]
    pub state: ArtifactState,
    /// A restore drill from this artifact passed.
    #[serde(default)]
    pub verified: bool,
    /// Never delete.
    #[serde(default)]
    pub pinned: bool,
    /// Id of the artifact this one depends on (a diff on its full, a layer on its base).
    #[serde(default)]
    pub parent: Option<String>,
    /// Policies apply per group; absent means the default group.
    #[serde(default)]
    pub group: Option<String>,
    /// Last use, for least-recently-used eviction under a size budget.
    #[serde(default, deserialize_with = "crate::time::deserialize_utc_option")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Free-form kind (`dump`, `snapshot`, `layer`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// It depends on some artifact, but which one is not known (its `.parent`
    /// marker is unreadable or ambiguous): it is kept, and so is every
    /// artifact it might depend on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parent_unknown: bool,
    /// Tags, for `keep_tags` (restic `--keep-tag`); in a directory, one a
    /// line in the sidecar `NAME.tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Why it cannot be handled safely, set by the source (never read from a
    /// catalog): a symlinked entry, a directory that holds a mount, an id with
    /// no entry in the root. Such an artifact is kept with this reason and
    /// counts toward no rule or floor.
    #[serde(skip)]
    pub held: Option<String>,
}

impl Artifact {
    /// A complete artifact with nothing else set.
    pub fn new(id: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        Artifact {
            id: id.into(),
            created_at,
            size_bytes: None,
            state: ArtifactState::Complete,
            verified: false,
            pinned: false,
            parent: None,
            group: None,
            last_used_at: None,
            kind: None,
            parent_unknown: false,
            tags: Vec::new(),
            held: None,
        }
    }

    /// The group the artifact belongs to (`default` when none is set).
    pub fn group_name(&self) -> &str {
        self.group.as_deref().unwrap_or("default")
    }
}

/// Checks that an id can name a directory entry and be recorded safely: not
/// empty, no `/`, no `..`, no control character (a line break, NUL, ...).
pub fn validate_id(id: &str) -> Result<()> {
    let b = id.as_bytes();
    let problem = if id.is_empty() {
        "an artifact id must not be empty"
    } else if b.contains(&b'/') || id == "." || b.windows(2).any(|w| w == b"..") {
        "the id contains a path separator or \"..\""
    } else if !b.iter().all(|c| (0x20..0x7f).contains(c)) && id.chars().any(char::is_control) {
        "the id contains a control character"
    } else {
        return Ok(());
    };
    Err(Error::Artifact {
        id: id.into(),
        message: problem.into(),
    })
}
