//! The retention knobs, declared once.
//!
//! [`retention_knobs!`](crate::retention_knobs) holds the one list of a
//! retention policy's keys — name, doc line, kind, the CLI's value name —
//! and hands it to a macro that renders it. From it come
//! [`RetentionPolicy`](super::RetentionPolicy) (fields, defaults,
//! `has_no_rule`, `describe`), [`RetentionPolicyPatch`](super::RetentionPolicyPatch),
//! the table [`KNOBS`], the CLI's flags (`ssot retention plan --help`) and
//! the Rhai docs, Python's `RetentionPolicy` `TypedDict`
//! ([`python_typed_dict`]) and the policy table of `docs/src/retention.md`
//! ([`reference_markdown`]); the last two are written into their files by
//! tests that fail while a file is stale. A knob added to the list appears
//! in each, or the build or a test fails.

use std::fmt::Write as _;

/// Calls the macro `$then` with the list of retention knobs, in the order of
/// [`RetentionPolicy`](crate::retention::RetentionPolicy)'s fields.
///
/// Each entry is `/// doc` (one paragraph: the CLI's help, the field's
/// doc), `name: kind "VALUE_NAME"`, optionally `flag "spelling"` (the CLI
/// flag when it is not the name with dashes) and `default EXPR` (when the
/// kind's default is not the knob's), then `;`. The kinds are those of
/// [`KnobKind`] in snake case.
#[doc(hidden)]
#[macro_export]
macro_rules! retention_knobs {
    ($($then:tt)+) => {
        $($then)+! {
            /// Keep the newest N artifacts (restic --keep-last; -1: all).
            keep_last: count "N";
            /// Keep the newest artifact of each of the last N hours that have one (-1: every hour).
            keep_hourly: count "N";
            /// Keep the newest artifact of each of the last N days that have one (-1: every day).
            keep_daily: count "N";
            /// Keep the newest artifact of each of the last N ISO weeks that have one (-1: every week).
            keep_weekly: count "N";
            /// Keep the newest artifact of each of the last N months that have one (-1: every month).
            keep_monthly: count "N";
            /// Keep the newest artifact of each of the last N years that have one (-1: every year).
            keep_yearly: count "N";
            /// Keep everything created within DURATION of the newest artifact (restic duration, e.g. 2d12h or 1y5m7d2h).
            keep_within: within "DURATION";
            /// Keep the newest artifact of each hour within DURATION of the newest artifact.
            keep_within_hourly: within "DURATION";
            /// Keep the newest artifact of each day within DURATION of the newest artifact.
            keep_within_daily: within "DURATION";
            /// Keep the newest artifact of each ISO week within DURATION of the newest artifact.
            keep_within_weekly: within "DURATION";
            /// Keep the newest artifact of each month within DURATION of the newest artifact.
            keep_within_monthly: within "DURATION";
            /// Keep the newest artifact of each year within DURATION of the newest artifact.
            keep_within_yearly: within "DURATION";
            /// Delete complete artifacts older than now − AGE (e.g. 7d) unless another rule keeps them.
            max_age: age "AGE";
            /// Barman: keep all within now − WINDOW plus the newest one before it.
            recovery_window: age "WINDOW";
            /// Never delete the newest N complete artifacts of a group.
            min_keep: floor "N";
            /// Never delete the newest N verified artifacts; warn if fewer would remain.
            min_verified: floor "N";
            /// Per-group size budget, e.g. 50GB: evict unprotected artifacts until the group fits.
            max_total_size: size "SIZE";
            /// Delete partial and failed artifacts once older than AGE [default: 1d].
            partial_grace: grace "AGE" default $crate::units::Span::days(1);
            /// IANA time zone for bucket boundaries and names [default: UTC].
            timezone: zone "TZ" default ::std::string::String::from("UTC");
            /// Refuse a plan that deletes more than N or N% of the artifacts.
            max_delete: max_delete "N|N%";
            /// Keep every artifact that has all of these tags (restic --keep-tag; repeat for alternatives).
            keep_tags: tags "TAG[,TAG...]" flag "keep-tag";
            /// Bucket semantics: current (today's restic, the default) or 0.14 (Debian 12's restic).
            restic_compat: compat "current|0.14";
        }
    };
}

/// What a knob is: its type, and whether it is a rule that keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnobKind {
    /// A bucket count (`i64`, `-1`: every bucket): a rule.
    Count,
    /// A restic duration relative to the newest artifact: a rule.
    Within,
    /// A span relative to now (`max_age`, `recovery_window`): a rule.
    Age,
    /// Lists of tags, any of which keeps (`keep_tags`): a rule.
    Tags,
    /// A floor: the newest N of some artifacts are never deleted (`u32`).
    Floor,
    /// A size budget.
    Size,
    /// A span that is not a rule (`partial_grace`).
    Grace,
    /// An IANA time zone name.
    Zone,
    /// A count or a percentage (`max_delete`).
    MaxDelete,
    /// Whose bucket semantics (`restic_compat`).
    Compat,
}

impl KnobKind {
    /// True for the kinds that keep artifacts (a policy with none of them
    /// set keeps everything: [`RetentionPolicy::has_no_rule`](super::RetentionPolicy::has_no_rule)).
    pub const fn is_rule(self) -> bool {
        matches!(
            self,
            KnobKind::Count | KnobKind::Within | KnobKind::Age | KnobKind::Tags
        )
    }

    /// The Python type of a value of this kind, as `ssot.options` spells it
    /// (`_Duration` is a `timedelta` or `"7d"`, `_Size` bytes or `"2GB"`).
    pub const fn python_type(self) -> &'static str {
        match self {
            KnobKind::Count | KnobKind::Floor => "int",
            KnobKind::Within | KnobKind::Age | KnobKind::Grace => "_Duration",
            KnobKind::Tags => "Sequence[Sequence[str]]",
            KnobKind::Size => "_Size",
            KnobKind::Zone => "str",
            KnobKind::MaxDelete => "Union[int, str]",
            KnobKind::Compat => "Literal[\"current\", \"0.14\"]",
        }
    }
}

/// One retention knob, as declared in [`retention_knobs!`](crate::retention_knobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Knob {
    /// The key (`keep_daily`): the policy's field, the configuration's,
    /// Python's and Rhai's key.
    pub name: &'static str,
    /// The CLI flag (without its leading dashes) when it is not the name
    /// with `-` for `_` (`keep_tags`: `keep-tag`, repeatable).
    pub flag: Option<&'static str>,
    /// The CLI's name for its value (`N`, `DURATION`).
    pub value_name: &'static str,
    /// What it does (one paragraph; the CLI's help).
    pub doc: &'static str,
    /// Its kind.
    pub kind: KnobKind,
}

impl Knob {
    /// The CLI flag without its leading dashes (`keep-daily`).
    pub fn cli_flag(&self) -> String {
        match self.flag {
            Some(f) => f.to_string(),
            None => self.name.replace('_', "-"),
        }
    }
}

/// Renders the list as [`KNOBS`].
macro_rules! knob_table {
    ($( $(#[doc = $doc:literal])+ $name:ident : $kind:ident $vn:literal
        $(flag $flag:literal)? $(default $default:expr)? ; )*) => {
        &[$(Knob {
            name: stringify!($name),
            flag: knob_table!(@flag $($flag)?),
            value_name: $vn,
            doc: concat!($($doc),+).trim_ascii(),
            kind: knob_table!(@kind $kind),
        }),*]
    };
    (@flag $flag:literal) => { Some($flag) };
    (@flag) => { None };
    (@kind count) => { KnobKind::Count };
    (@kind within) => { KnobKind::Within };
    (@kind age) => { KnobKind::Age };
    (@kind tags) => { KnobKind::Tags };
    (@kind floor) => { KnobKind::Floor };
    (@kind size) => { KnobKind::Size };
    (@kind grace) => { KnobKind::Grace };
    (@kind zone) => { KnobKind::Zone };
    (@kind max_delete) => { KnobKind::MaxDelete };
    (@kind compat) => { KnobKind::Compat };
}

/// Every retention knob, in declaration order.
pub const KNOBS: &[Knob] = crate::retention_knobs!(knob_table);

/// The keys of Python's `RetentionPolicy` `TypedDict`
/// (`ssot-py/python/ssot/options.py`), one per knob in declaration order:
/// `name: type` and the knob's doc as the key's docstring, indented for
/// the class body. `tests/knobs.rs` keeps the file's lines between
/// [`PYTHON_BEGIN`] and [`PYTHON_END`] equal to it (`SSOT_BLESS=1`
/// rewrites them).
pub fn python_typed_dict() -> String {
    let mut s = String::new();
    for knob in KNOBS {
        let doc = knob.doc.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(s, "    {}: {}", knob.name, knob.kind.python_type());
        let _ = writeln!(s, "    \"\"\"{doc}\"\"\"");
    }
    s
}

/// The line before the generated keys in `options.py`.
pub const PYTHON_BEGIN: &str =
    "    # --- generated from ssot_core::retention_knobs! (tests/knobs.rs): do not edit ---";
/// The line after them.
pub const PYTHON_END: &str = "    # --- end of the generated knobs ---";

/// The policy table of `docs/src/retention.md`: one row per knob in
/// declaration order, with its CLI flag and value, its default (as the
/// configuration spells it; `—`: not set) and its doc. `tests/docs.rs`
/// keeps the page's lines between [`REFERENCE_BEGIN`] and
/// [`REFERENCE_END`] equal to it (`SSOT_BLESS=1` rewrites them).
pub fn reference_markdown() -> String {
    let defaults = serde_json::to_value(super::RetentionPolicy::default()).unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "| key | flag | default | meaning |");
    let _ = writeln!(s, "|---|---|---|---|");
    for knob in KNOBS {
        let default = match &defaults[knob.name] {
            serde_json::Value::Null => "—".to_string(),
            serde_json::Value::String(v) => format!("`{v}`"),
            v => format!("`{v}`"),
        };
        let _ = writeln!(
            s,
            "| `{}` | `--{} {}` | {default} | {} |",
            knob.name,
            knob.cli_flag(),
            knob.value_name.replace('|', "\\|"),
            knob.doc.replace('|', "\\|"),
        );
    }
    s
}

/// The line before the generated table in `docs/src/retention.md`.
pub const REFERENCE_BEGIN: &str =
    "<!-- generated from ssot_core::retention::knobs::reference_markdown(): do not edit -->";
/// The line after it.
pub const REFERENCE_END: &str = "<!-- end of generated table -->";

/// Renders the knobs of [`retention_knobs!`](crate::retention_knobs) as a
/// Markdown table (`| key | meaning |`), a string literal a doc attribute
/// takes: `#[doc = ssot_core::retention_knobs!(ssot_core::retention_knobs_table)]`
/// (the Rhai API's docs of its `policy` option).
#[doc(hidden)]
#[macro_export]
macro_rules! retention_knobs_table {
    ($( $(#[doc = $doc:literal])+ $name:ident : $kind:ident $vn:literal
        $(flag $flag:literal)? $(default $default:expr)? ; )*) => {
        concat!(
            "| key | meaning |\n|---|---|\n",
            $( "| `", stringify!($name), "` |", $($doc,)+ " |\n", )*
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::{RetentionPolicy, RetentionPolicyPatch};
    use serde_json::{json, Value};

    /// A value of each kind that differs from every knob's default.
    fn sample(kind: KnobKind) -> Value {
        match kind {
            KnobKind::Count => json!(3),
            KnobKind::Within => json!("2d"),
            KnobKind::Age => json!("7d"),
            KnobKind::Tags => json!([["a", "b"]]),
            KnobKind::Floor => json!(2),
            KnobKind::Size => json!("1GB"),
            KnobKind::Grace => json!("3d"),
            KnobKind::Zone => json!("Europe/Berlin"),
            KnobKind::MaxDelete => json!("50%"),
            KnobKind::Compat => json!("0.14"),
        }
    }

    fn keys(v: &Value) -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn every_declared_knob_is_a_policy_key_a_patch_key_and_a_rule_as_its_kind_says() {
        let base = RetentionPolicy::default();
        let base_json = serde_json::to_value(&base).unwrap();
        let mut names: Vec<String> = KNOBS.iter().map(|k| k.name.to_string()).collect();
        names.sort();
        assert_eq!(keys(&base_json), names, "the policy's keys are the knobs");
        assert!(base.has_no_rule());
        assert_eq!(base.describe(), "no rule");
        for knob in KNOBS {
            let given = json!({ knob.name: sample(knob.kind) });
            let patch: RetentionPolicyPatch = serde_json::from_value(given.clone()).unwrap();
            assert_eq!(
                serde_json::to_value(&patch).unwrap(),
                given,
                "{}",
                knob.name
            );
            let p = patch.apply_to(&base);
            let read: RetentionPolicy = serde_json::from_value(given).unwrap();
            assert_eq!(
                p, read,
                "{}: the patch and the policy read it alike",
                knob.name
            );
            let after = serde_json::to_value(&p).unwrap();
            let changed: Vec<&String> = names
                .iter()
                .filter(|n| after[n.as_str()] != base_json[n.as_str()])
                .collect();
            assert_eq!(changed, [knob.name], "{}", knob.name);
            assert_eq!(p.has_no_rule(), !knob.kind.is_rule(), "{}", knob.name);
            let described = p.describe();
            if knob.kind.is_rule() {
                let word = if knob.kind == KnobKind::Tags {
                    "keep_tag a,b".to_string()
                } else {
                    format!("{} ", knob.name)
                };
                assert!(described.starts_with(&word), "{}: {described}", knob.name);
            } else {
                assert_eq!(described, "no rule", "{}", knob.name);
            }
        }
    }

    #[test]
    fn the_rendered_surfaces_have_one_entry_per_knob_in_order() {
        let table = reference_markdown();
        let rows: Vec<&str> = table.lines().skip(2).collect();
        let python = python_typed_dict();
        let keys: Vec<&str> = python.lines().step_by(2).collect();
        assert_eq!(rows.len(), KNOBS.len());
        assert_eq!(keys.len(), KNOBS.len());
        for ((row, key), knob) in rows.iter().zip(&keys).zip(KNOBS) {
            let flag = format!("| `{}` | `--{} ", knob.name, knob.cli_flag());
            assert!(row.starts_with(&flag), "{row}");
            assert_eq!(
                *key,
                format!("    {}: {}", knob.name, knob.kind.python_type())
            );
        }
        // The defaults are the policy's, as the configuration spells them.
        assert!(table.contains("| `partial_grace` | `--partial-grace AGE` | `1d` |"));
        assert!(table.contains("| `timezone` | `--timezone TZ` | `UTC` |"));
        assert!(table.contains("| `max_age` | `--max-age AGE` | — |"));
        // A `|` in a value name does not split its cell.
        assert!(table.contains("`--max-delete N\\|N%`"));
    }

    #[test]
    fn every_knob_has_a_one_paragraph_doc_and_a_value_name() {
        for knob in KNOBS {
            assert!(
                knob.doc.ends_with('.') && !knob.doc.contains('\n'),
                "{knob:?}"
            );
            assert!(!knob.value_name.is_empty(), "{knob:?}");
            assert!(!knob.cli_flag().contains('_'), "{knob:?}");
        }
    }
}
