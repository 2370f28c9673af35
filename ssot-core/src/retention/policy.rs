//! Retention policies: the rules, the floors, the budget.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::restic;
pub use super::restic::ResticDuration;
use crate::error::{Error, Result};
use crate::num::pct;
use crate::units::{ByteSize, Span};

/// `max_delete`: a count, or a percentage of all artifacts in the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxDelete {
    /// At most N deletions.
    Count(u64),
    /// At most this % of the artifacts.
    Percent(f64),
}

impl MaxDelete {
    /// The most deletions allowed among `total` artifacts.
    pub fn limit(self, total: usize) -> u64 {
        match self {
            MaxDelete::Count(n) => n,
            MaxDelete::Percent(p) => ((total as f64) * p / 100.0).floor() as u64,
        }
    }
}

impl fmt::Display for MaxDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxDelete::Count(n) => write!(f, "{n}"),
            MaxDelete::Percent(p) => write!(f, "{}", pct(*p)),
        }
    }
}

impl FromStr for MaxDelete {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let err = |m: &str| Error::Unit {
            what: "max_delete",
            input: s.to_string(),
            message: m.to_string(),
        };
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| err("expected N or N%"))?;
            if !(0.0..=100.0).contains(&v) {
                return Err(err("a percentage must be between 0 and 100"));
            }
            Ok(MaxDelete::Percent(v))
        } else {
            t.parse()
                .map(MaxDelete::Count)
                .map_err(|_| err("expected N or N%"))
        }
    }
}

impl Serialize for MaxDelete {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MaxDelete::Count(n) => s.serialize_u64(*n),
            MaxDelete::Percent(_) => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for MaxDelete {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(MaxDelete::Count(n)),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Which restic's bucket semantics a policy follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ResticCompat {
    /// restic 0.16 and later (current 0.19): when a bucket rule still has
    /// counts left at the oldest artifact, that artifact is kept too
    /// ("oldest"); counts may be `-1` (all).
    #[default]
    #[serde(rename = "current")]
    Current,
    /// restic 0.14 (Debian 12): no keep-the-oldest rule, and no `-1`.
    #[serde(rename = "0.14")]
    V0_14,
}

impl fmt::Display for ResticCompat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResticCompat::Current => "current",
            ResticCompat::V0_14 => "0.14",
        })
    }
}

impl FromStr for ResticCompat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "current" | "" => Ok(ResticCompat::Current),
            "0.14" => Ok(ResticCompat::V0_14),
            other => Err(Error::InvalidName {
                what: "restic_compat",
                value: other.into(),
                message: "expected \"current\" (today's restic) or \"0.14\"".into(),
            }),
        }
    }
}

/// The largest count; `-1` means every bucket.
pub const MAX_COUNT: i64 = u32::MAX as i64;

/// `Err` with the reason when `n` is not a count (`-1..=4294967295`).
pub fn check_count(n: i64) -> std::result::Result<(), String> {
    if (-1..=MAX_COUNT).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "{n} is not in -1..={MAX_COUNT} (-1 keeps every bucket)"
        ))
    }
}

impl RetentionPolicy {
    /// The time zone, or an error naming the bad value.
    pub fn tz(&self) -> Result<Tz> {
        self.timezone.parse().map_err(|_| Error::InvalidName {
            what: "time zone",
            value: self.timezone.clone(),
            message: "expected an IANA name such as UTC or Europe/Berlin".into(),
        })
    }

    pub(super) fn within_rules(&self) -> restic::WithinRules {
        restic::WithinRules {
            within: self.keep_within,
            buckets: [
                self.keep_within_hourly,
                self.keep_within_daily,
                self.keep_within_weekly,
                self.keep_within_monthly,
                self.keep_within_yearly,
            ],
        }
    }

    /// Checks what the types cannot: counts in `-1..=4294967295` (a policy
    /// built in code, not read), `-1` not under `restic_compat = "0.14"`.
    pub fn validate(&self) -> Result<()> {
        for (n, name) in self.count_names() {
            let bad = |message: String| Error::Unit {
                what: name,
                input: n.to_string(),
                message,
            };
            check_count(n).map_err(bad)?;
            if n == -1 && self.restic_compat == ResticCompat::V0_14 {
                return Err(bad(
                    "restic 0.14 has no unlimited counts (-1): use restic_compat \"current\""
                        .into(),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn counts(&self) -> restic::BucketCounts {
        restic::BucketCounts {
            last: self.keep_last,
            hourly: self.keep_hourly,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
            yearly: self.keep_yearly,
        }
    }
}

/// How a knob's value is read: its type's own reading, plus what the type
/// cannot check (a count's range).
trait KnobValue: Sized {
    /// `Err` with the reason when the value is out of range.
    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// A patch's value: `null` is "not given" (a count has no `null`).
    fn read_patch<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Self>, D::Error>
    where
        Self: Deserialize<'de>,
    {
        let v = Option::<Self>::deserialize(d)?;
        if let Some(v) = &v {
            v.check().map_err(serde::de::Error::custom)?;
        }
        Ok(v)
    }
}

/// A `keep_*` count: an integer in `-1..=4294967295` (`-1`: all).
impl KnobValue for i64 {
    fn check(&self) -> std::result::Result<(), String> {
        check_count(*self)
    }

    fn read_patch<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Self>, D::Error> {
        knob(d).map(Some)
    }
}

impl KnobValue for u32 {}
impl KnobValue for String {}
impl KnobValue for Span {}
impl KnobValue for ByteSize {}
impl KnobValue for ResticDuration {}
impl KnobValue for MaxDelete {}
impl KnobValue for ResticCompat {}
impl KnobValue for Vec<Vec<String>> {}

impl<T: KnobValue> KnobValue for Option<T> {
    fn check(&self) -> std::result::Result<(), String> {
        self.as_ref().map_or(Ok(()), KnobValue::check)
    }
}

/// Reads a policy's knob ([`KnobValue`]).
fn knob<'de, D: Deserializer<'de>, T: Deserialize<'de> + KnobValue>(
    d: D,
) -> std::result::Result<T, D::Error> {
    let v = T::deserialize(d)?;
    v.check().map_err(serde::de::Error::custom)?;
    Ok(v)
}

/// Reads a patch's knob ([`KnobValue::read_patch`]).
fn knob_patch<'de, D: Deserializer<'de>, T: Deserialize<'de> + KnobValue>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::read_patch(d)
}

/// Renders the knobs of [`crate::retention_knobs!`] as [`RetentionPolicy`]
/// (fields, `Default`, `has_no_rule`, `describe`) and
/// [`RetentionPolicyPatch`] (its fields, `apply_to`). What a kind means is
/// said once below, in the `@...` arms.
macro_rules! declare_policy {
    ($( $(#[doc = $doc:literal])+ $name:ident : $kind:ident $vn:literal
        $(flag $flag:literal)? $(default $default:expr)? ; )*) => {
        /// A retention policy. Every rule is optional and they combine: a
        /// rule keeps, floors override deletes. Field names match the CLI
        /// flags (`keep_daily` ↔ `--keep-daily`) and restic's options; the
        /// knobs are declared once, in [`crate::retention_knobs!`].
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct RetentionPolicy {
            $(
                $(#[doc = $doc])+
                #[serde(deserialize_with = "knob")]
                pub $name: declare_policy!(@type $kind),
            )*
        }

        impl Default for RetentionPolicy {
            fn default() -> Self {
                RetentionPolicy {
                    $( $name: declare_policy!(@default $($default)?), )*
                }
            }
        }

        impl RetentionPolicy {
            /// True when no rule selects artifacts to keep (then everything
            /// is kept, as in restic).
            pub fn has_no_rule(&self) -> bool {
                true $( && declare_policy!(@unset $kind self.$name) )*
            }

            /// One line naming the rules in force, for messages: the
            /// counts, the tags, the `keep_within*` durations, then the
            /// ages (each in declaration order).
            pub fn describe(&self) -> String {
                let mut parts: Vec<String> = Vec::new();
                $( declare_policy!(@describe count $kind self.$name, stringify!($name), parts); )*
                $( declare_policy!(@describe tags $kind self.$name, stringify!($name), parts); )*
                $( declare_policy!(@describe within $kind self.$name, stringify!($name), parts); )*
                $( declare_policy!(@describe age $kind self.$name, stringify!($name), parts); )*
                if parts.is_empty() {
                    "no rule".into()
                } else {
                    parts.join(", ")
                }
            }

            /// The `keep_*` counts with their names.
            #[allow(clippy::vec_init_then_push)] // one push per count knob
            fn count_names(&self) -> Vec<(i64, &'static str)> {
                let mut counts = Vec::new();
                $( declare_policy!(@count $kind self.$name, stringify!($name), counts); )*
                counts
            }
        }

        /// Overrides of a [`RetentionPolicy`]'s keys: what a command line, a
        /// Python call or a runbook gives on top of a profile. A key left
        /// `None` keeps the profile's value. Unknown keys are refused, so a
        /// typo never silently keeps a default.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct RetentionPolicyPatch {
            $(
                #[doc = concat!("Overrides `", stringify!($name), "`.")]
                #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "knob_patch")]
                pub $name: Option<declare_policy!(@given $kind)>,
            )*
        }

        impl RetentionPolicyPatch {
            /// `base` with every given key replaced.
            pub fn apply_to(&self, base: &RetentionPolicy) -> RetentionPolicy {
                let mut p = base.clone();
                $(
                    if let Some(v) = &self.$name {
                        p.$name = declare_policy!(@set $kind v.clone());
                    }
                )*
                p
            }
        }
    };
    // The policy's type of each kind, and what a patch gives for it.
    (@type count) => { i64 };
    (@type within) => { Option<ResticDuration> };
    (@type age) => { Option<Span> };
    (@type tags) => { Vec<Vec<String>> };
    (@type floor) => { u32 };
    (@type size) => { Option<ByteSize> };
    (@type grace) => { Span };
    (@type zone) => { String };
    (@type max_delete) => { Option<MaxDelete> };
    (@type compat) => { ResticCompat };
    (@given within) => { ResticDuration };
    (@given age) => { Span };
    (@given size) => { ByteSize };
    (@given max_delete) => { MaxDelete };
    (@given $kind:ident) => { declare_policy!(@type $kind) };
    (@set within $v:expr) => { Some($v) };
    (@set age $v:expr) => { Some($v) };
    (@set size $v:expr) => { Some($v) };
    (@set max_delete $v:expr) => { Some($v) };
    (@set $kind:ident $v:expr) => { $v };
    (@default $default:expr) => { $default };
    (@default) => { Default::default() };
    // A rule left out (the kinds of `KnobKind::is_rule`).
    (@unset count $v:expr) => { $v == 0 };
    (@unset within $v:expr) => { $v.is_none_or(|d| d.is_zero()) };
    (@unset age $v:expr) => { $v.is_none() };
    (@unset tags $v:expr) => { $v.is_empty() };
    (@unset $kind:ident $v:expr) => { true };
    // `describe`'s words for a rule in force, one pass per kind.
    (@describe count count $v:expr, $name:expr, $parts:ident) => {
        match $v {
            -1 => $parts.push(format!("{} all", $name)),
            n if n > 0 => $parts.push(format!("{} {n}", $name)),
            _ => {}
        }
    };
    (@describe tags tags $v:expr, $name:expr, $parts:ident) => {
        for tags in &$v {
            $parts.push(format!("keep_tag {}", tags.join(",")));
        }
    };
    (@describe within within $v:expr, $name:expr, $parts:ident) => {
        if let Some(d) = $v.filter(|d| !d.is_zero()) {
            $parts.push(format!("{} {d}", $name));
        }
    };
    (@describe age age $v:expr, $name:expr, $parts:ident) => {
        if let Some(a) = $v {
            $parts.push(format!("{} {a}", $name));
        }
    };
    (@describe $pass:ident $kind:ident $v:expr, $name:expr, $parts:ident) => {};
    (@count count $v:expr, $name:expr, $out:ident) => { $out.push(($v, $name)) };
    (@count $kind:ident $v:expr, $name:expr, $out:ident) => {};
}

crate::retention_knobs!(declare_policy);

#[cfg(test)]
mod patch_tests {
    use super::*;

    #[test]
    fn a_patch_overrides_only_the_keys_it_gives() {
        let base = RetentionPolicy {
            keep_daily: 7,
            keep_weekly: 4,
            ..RetentionPolicy::default()
        };
        let patch: RetentionPolicyPatch =
            serde_json::from_str(r#"{"keep_daily": 3, "max_delete": "50%", "keep_within": "2d"}"#)
                .unwrap();
        let p = patch.apply_to(&base);
        assert_eq!(p.keep_daily, 3);
        assert_eq!(p.keep_weekly, 4);
        assert_eq!(p.max_delete, Some(MaxDelete::Percent(50.0)));
        assert_eq!(p.keep_within.map(|d| d.to_string()), Some("2d".into()));
        assert_eq!(RetentionPolicyPatch::default().apply_to(&base), base);
    }

    #[test]
    fn describe_names_counts_then_tags_then_durations_then_ages() {
        let p: RetentionPolicy = serde_json::from_str(
            r#"{"max_age": "7d", "keep_within": "2d", "keep_tags": [["x"]], "keep_daily": 7,
                "keep_last": -1, "recovery_window": "1d", "min_keep": 3}"#,
        )
        .unwrap();
        assert_eq!(
            p.describe(),
            "keep_last all, keep_daily 7, keep_tag x, keep_within 2d, max_age 7d, recovery_window 1d"
        );
    }

    #[test]
    fn a_null_in_a_patch_is_not_given_except_for_a_count() {
        let p: RetentionPolicyPatch =
            serde_json::from_str(r#"{"keep_within": null, "max_delete": null}"#).unwrap();
        assert_eq!(p, RetentionPolicyPatch::default());
        assert!(serde_json::from_str::<RetentionPolicyPatch>(r#"{"keep_daily": null}"#).is_err());
        let e = serde_json::from_str::<RetentionPolicyPatch>(r#"{"keep_daily": -2}"#).unwrap_err();
        assert!(e.to_string().contains("-1 keeps every bucket"), "{e}");
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let e = serde_json::from_str::<RetentionPolicyPatch>(r#"{"keep_dayly": 3}"#).unwrap_err();
        assert!(e.to_string().contains("keep_dayly"), "{e}");
    }
}
