//! restic: `restic snapshots --json` in, `restic forget ID…` out.
//!
//! Each snapshot is one [`Artifact`]:
//!
//! * `id`: the full snapshot `id` (64 hex digits; anything else is refused,
//!   so an id is always safe to put in a command line);
//! * `created_at`: `time` (RFC 3339, fractional seconds and offset as
//!   restic writes them);
//! * `group`: what `restic forget` groups by by default (`--group-by
//!   host,paths`): `host=H paths=P`, where `H` is the `hostname` as a JSON
//!   string and `P` the `paths`, sorted as restic sorts them, as a JSON
//!   array — e.g. `host="db1" paths=["/srv/a","/srv/b"]`;
//! * `tags`: `tags`, for `keep_tags` (`--keep-tag`);
//! * `state`: complete (restic writes a snapshot only when its backup
//!   finished); `verified`: false — a listing is no restore drill, and ssot
//!   has no verification evidence for the snapshot (`min_verified` counts
//!   none of them);
//! * `parent` is not mapped: restic's `parent` is the snapshot the backup
//!   compared files with, not one it depends on; every snapshot restores on
//!   its own, and `restic forget` deletes any of them.
//!
//! Other fields (`short_id`, `tree`, `username`, `summary`, ...) are
//! ignored, so newer restic versions' listings read too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::CatalogAdapter;
use crate::error::{Error, Result};
use crate::retention::{Artifact, ArtifactState};

/// The most ids given to one `restic forget` call (a command line stays far
/// below the kernel's argument limit); more make more calls.
pub const MAX_IDS_PER_CALL: usize = 1000;

/// The restic adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restic;

/// One snapshot as listed; every field optional so that a missing one is
/// named by the snapshot it is missing from.
#[derive(Deserialize)]
struct Listed {
    id: Option<String>,
    time: Option<String>,
    hostname: Option<String>,
    paths: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The group restic's `forget` puts a snapshot in by default (host, paths).
pub fn group_of(hostname: &str, paths: &[String]) -> String {
    let mut sorted: Vec<&str> = paths.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    // Strings and arrays of strings always serialize.
    let host = serde_json::to_string(hostname).unwrap_or_default();
    let paths = serde_json::to_string(&sorted).unwrap_or_default();
    format!("host={host} paths={paths}")
}

fn is_full_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl CatalogAdapter for Restic {
    fn parse(text: &str, origin: &str) -> Result<Vec<Artifact>> {
        let listed: Vec<Listed> = serde_json::from_str(text).map_err(|e| Error::InputFile {
            origin: origin.into(),
            line: Some(e.line()),
            column: Some(e.column()),
            message: format!(
                "not restic's snapshot listing (a JSON array of snapshots, `restic snapshots --json`): {e}"
            ),
        })?;
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(listed.len());
        let mut out = Vec::with_capacity(listed.len());
        for (i, s) in listed.into_iter().enumerate() {
            let n = i + 1;
            let bad = |what: String| Error::InputFile {
                origin: origin.into(),
                line: None,
                column: None,
                message: format!("snapshot {n} of the listing: {what}"),
            };
            let id = s.id.ok_or_else(|| bad("has no \"id\"".into()))?;
            if !is_full_id(&id) {
                return Err(bad(format!(
                    "\"id\" {:?} is not a full restic snapshot id (64 lowercase hex digits)",
                    id.chars().take(80).collect::<String>()
                )));
            }
            let bad = |what: String| Error::InputFile {
                origin: origin.into(),
                line: None,
                column: None,
                message: format!("snapshot {n} of the listing ({id}): {what}"),
            };
            if let Some(first) = seen.insert(id.clone(), n) {
                return Err(bad(format!(
                    "the id is listed twice (also as snapshot {first}): one repository's listing names each snapshot once"
                )));
            }
            let time = s.time.ok_or_else(|| bad("has no \"time\"".into()))?;
            let created_at = DateTime::parse_from_rfc3339(&time)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    bad(format!(
                        "\"time\" {:?} is not an RFC 3339 time: {e}",
                        time.chars().take(80).collect::<String>()
                    ))
                })?;
            let hostname = s
                .hostname
                .ok_or_else(|| bad("has no \"hostname\"".into()))?;
            let paths = s.paths.ok_or_else(|| bad("has no \"paths\"".into()))?;
            let mut a = Artifact::new(id.clone(), created_at);
            a.state = ArtifactState::Complete;
            a.verified = false;
            a.group = Some(group_of(&hostname, &paths));
            a.tags = s.tags.unwrap_or_default();
            a.kind = Some("restic snapshot".into());
            out.push(a);
        }
        Ok(out)
    }

    fn delete_commands(ids: &[&str]) -> Vec<Vec<String>> {
        ids.chunks(MAX_IDS_PER_CALL)
            .map(|chunk| {
                let mut argv = vec!["restic".to_string(), "forget".to_string()];
                argv.extend(chunk.iter().map(|id| id.to_string()));
                argv
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing as restic 0.14 writes it (`restic snapshots --json`).
    const LISTING: &str = r#"[
  {"time":"2026-01-02T03:04:05.123456789+00:00","parent":"5d1e1ad0c7f1b5b0fb2c4c7e8f6d0e1a2b3c4d5e6f708192a3b4c5d6e7f80912","tree":"aa11","paths":["/srv/b","/srv/a"],"hostname":"db1","username":"root","tags":["daily","pg"],"id":"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","short_id":"0f1e2d3c"},
  {"time":"2026-01-03T01:00:00+01:00","tree":"bb22","paths":["/srv/a","/srv/b"],"hostname":"db1","username":"root","id":"1111111111111111111111111111111111111111111111111111111111111111","short_id":"11111111"},
  {"time":"2026-01-03T00:30:00Z","tree":"cc33","paths":["/srv/a"],"hostname":"db 2","tags":null,"id":"2222222222222222222222222222222222222222222222222222222222222222","short_id":"22222222","program_version":"restic 0.17.0","summary":{"files_new":1}}
]"#;

    #[test]
    fn a_listing_maps_to_artifacts_grouped_by_host_and_sorted_paths() {
        let a = Restic::parse(LISTING, "snapshots.json").unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].id.len(), 64);
        assert_eq!(
            a[0].created_at.to_rfc3339(),
            "2026-01-02T03:04:05.123456789+00:00"
        );
        assert_eq!(a[1].created_at.to_rfc3339(), "2026-01-03T00:00:00+00:00");
        assert_eq!(
            a[0].group, a[1].group,
            "paths are sorted as restic sorts them"
        );
        assert_eq!(
            a[0].group.as_deref(),
            Some(r#"host="db1" paths=["/srv/a","/srv/b"]"#)
        );
        assert_eq!(
            a[2].group.as_deref(),
            Some(r#"host="db 2" paths=["/srv/a"]"#)
        );
        assert_eq!(a[0].tags, ["daily", "pg"]);
        assert!(a[1].tags.is_empty() && a[2].tags.is_empty());
        for x in &a {
            assert_eq!(x.state, ArtifactState::Complete);
            assert!(!x.verified && !x.pinned);
            assert_eq!(x.parent, None, "restic's parent is no dependency");
        }
    }

    /// `restic snapshots --json` from restic 0.14 (Debian 12): two hosts,
    /// two path sets, tags, one snapshot taken with TZ=Europe/Berlin.
    const RESTIC_0_14: &str = include_str!("fixtures/restic-0.14-snapshots.json");

    #[test]
    fn restic_0_14s_own_listing_reads() {
        let a = Restic::parse(RESTIC_0_14, "fixture").unwrap();
        let got: Vec<(&str, String, &str, Vec<String>)> = a
            .iter()
            .map(|x| {
                (
                    &x.id[..8],
                    x.created_at.to_rfc3339(),
                    x.group.as_deref().unwrap(),
                    x.tags.clone(),
                )
            })
            .collect();
        let both = r#"host="db1" paths=["/tmp/rfix/srv/a","/tmp/rfix/srv/b"]"#;
        assert_eq!(
            got,
            [
                (
                    "81532eee",
                    "2026-03-01T01:02:03+00:00".to_string(),
                    both,
                    vec!["daily".to_string(), "pg".to_string()]
                ),
                (
                    "1aec920f",
                    "2026-03-02T00:02:03+00:00".to_string(),
                    both,
                    vec![]
                ),
                (
                    "95f80f0e",
                    "2026-03-03T04:05:06+00:00".to_string(),
                    r#"host="db2" paths=["/tmp/rfix/srv/a"]"#,
                    vec!["weekly".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn an_empty_listing_is_no_artifact() {
        assert!(Restic::parse("[]", "-").unwrap().is_empty());
    }

    /// Hostile listings: each is an error naming the input and the
    /// problem, never a panic.
    #[test]
    fn bad_listings_are_refused_with_the_problem() {
        let id = "3".repeat(64);
        let snap = |fields: &str| format!("[{{{fields}}}]");
        let full = |extra: &str| {
            snap(&format!(
                r#""id":"{id}","time":"2026-01-01T00:00:00Z","hostname":"h","paths":["/p"]{extra}"#
            ))
        };
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "not restic's snapshot listing"),
            ("{}".into(), "not restic's snapshot listing"),
            ("[1]".into(), "not restic's snapshot listing"),
            (
                snap(r#""time":"2026-01-01T00:00:00Z","hostname":"h","paths":[]"#),
                "has no \"id\"",
            ),
            (
                snap(r#""id":"abc","time":"2026-01-01T00:00:00Z","hostname":"h","paths":[]"#),
                "not a full restic snapshot id",
            ),
            (
                snap(&format!(
                    r#""id":"{}","time":"2026-01-01T00:00:00Z","hostname":"h","paths":[]"#,
                    "A".repeat(64)
                )),
                "not a full restic snapshot id",
            ),
            (
                snap(&format!(
                    r#""id":"../../{}","time":"2026-01-01T00:00:00Z","hostname":"h","paths":[]"#,
                    "a".repeat(58)
                )),
                "not a full restic snapshot id",
            ),
            (
                snap(&format!(r#""id":"{id}","hostname":"h","paths":[]"#)),
                "has no \"time\"",
            ),
            (
                snap(&format!(
                    r#""id":"{id}","time":"2026-01-01 00:00:00","hostname":"h","paths":[]"#
                )),
                "is not an RFC 3339 time",
            ),
            (
                snap(&format!(
                    r#""id":"{id}","time":"2026-02-30T00:00:00Z","hostname":"h","paths":[]"#
                )),
                "is not an RFC 3339 time",
            ),
            (
                snap(&format!(
                    r#""id":"{id}","time":"2026-01-01T00:00:00Z","paths":[]"#
                )),
                "has no \"hostname\"",
            ),
            (
                snap(&format!(
                    r#""id":"{id}","time":"2026-01-01T00:00:00Z","hostname":"h""#
                )),
                "has no \"paths\"",
            ),
            (full(r#","tags":"daily""#), "not restic's snapshot listing"),
            (
                format!("{},{}", &full("")[..full("").len() - 1], &full("")[1..]),
                "the id is listed twice (also as snapshot 1)",
            ),
        ];
        for (text, expected) in cases {
            let e = Restic::parse(&text, "snaps.json").unwrap_err().to_string();
            assert!(e.starts_with("snaps.json: "), "{text}: {e}");
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn the_ids_to_delete_make_one_forget_call_per_thousand() {
        assert!(Restic::delete_commands(&[]).is_empty());
        let ids: Vec<String> = (0..2001).map(|i| format!("{i:064x}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let cmds = Restic::delete_commands(&refs);
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0][..2], ["restic", "forget"]);
        assert_eq!(cmds[0].len(), 2 + MAX_IDS_PER_CALL);
        assert_eq!(cmds[2], ["restic", "forget", &ids[2000]]);
        let all: Vec<&String> = cmds.iter().flat_map(|c| &c[2..]).collect();
        assert_eq!(all.len(), ids.len());
    }
}
