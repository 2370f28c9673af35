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

/// A retention policy. Every rule is optional and they combine: a rule keeps,
/// floors override deletes. Field names match the CLI flags (`keep_daily` ↔
/// `--keep-daily`) and restic's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Keep the newest N (`-1`: all, like every count).
    #[serde(deserialize_with = "count")]
    pub keep_last: i64,
    /// Keep the newest artifact of each of the last N hours that have one.
    #[serde(deserialize_with = "count")]
    pub keep_hourly: i64,
    /// ... days.
    #[serde(deserialize_with = "count")]
    pub keep_daily: i64,
    /// ... ISO weeks.
    #[serde(deserialize_with = "count")]
    pub keep_weekly: i64,
    /// ... months.
    #[serde(deserialize_with = "count")]
    pub keep_monthly: i64,
    /// ... years.
    #[serde(deserialize_with = "count")]
    pub keep_yearly: i64,
    /// Keep everything created within this of the newest artifact.
    pub keep_within: Option<ResticDuration>,
    /// Keep the newest of each hour within this of the newest artifact.
    pub keep_within_hourly: Option<ResticDuration>,
    /// ... of each day.
    pub keep_within_daily: Option<ResticDuration>,
    /// ... of each week.
    pub keep_within_weekly: Option<ResticDuration>,
    /// ... of each month.
    pub keep_within_monthly: Option<ResticDuration>,
    /// ... of each year.
    pub keep_within_yearly: Option<ResticDuration>,
    /// Keep what is younger than this (relative to `now`); older complete artifacts are deleted.
    pub max_age: Option<Span>,
    /// Barman: keep everything inside `now − window`, plus the newest artifact older than that.
    pub recovery_window: Option<Span>,
    /// Never fewer than this many complete artifacts per group (the newest are kept).
    pub min_keep: u32,
    /// The newest N verified artifacts are never deleted.
    pub min_verified: u32,
    /// Per-group size budget.
    pub max_total_size: Option<ByteSize>,
    /// How long partial/failed artifacts are kept before deletion.
    pub partial_grace: Span,
    /// IANA time zone for bucket boundaries.
    pub timezone: String,
    /// Refuse a plan that deletes more than this.
    pub max_delete: Option<MaxDelete>,
    /// Keep every artifact that has all the tags of any of these lists
    /// (restic `--keep-tag a,b`, repeatable); such keeps use up no count.
    pub keep_tags: Vec<Vec<String>>,
    /// Whose bucket semantics: today's restic (default), or `0.14`'s.
    pub restic_compat: ResticCompat,
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

/// Reads a `keep_*` count: an integer in `-1..=4294967295` (`-1`: all).
fn count<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let n = i64::deserialize(d)?;
    check_count(n).map_err(serde::de::Error::custom)?;
    Ok(n)
}

fn count_patch<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    count(d).map(Some)
}

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

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            keep_last: 0,
            keep_hourly: 0,
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            keep_yearly: 0,
            keep_within: None,
            keep_within_hourly: None,
            keep_within_daily: None,
            keep_within_weekly: None,
            keep_within_monthly: None,
            keep_within_yearly: None,
            max_age: None,
            recovery_window: None,
            min_keep: 0,
            min_verified: 0,
            max_total_size: None,
            partial_grace: Span::days(1),
            timezone: "UTC".into(),
            max_delete: None,
            keep_tags: Vec::new(),
            restic_compat: ResticCompat::Current,
        }
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

    fn count_names(&self) -> [(i64, &'static str); 6] {
        [
            (self.keep_last, "keep_last"),
            (self.keep_hourly, "keep_hourly"),
            (self.keep_daily, "keep_daily"),
            (self.keep_weekly, "keep_weekly"),
            (self.keep_monthly, "keep_monthly"),
            (self.keep_yearly, "keep_yearly"),
        ]
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

    /// True when no rule selects artifacts to keep (then everything is kept, as in restic).
    pub fn has_no_rule(&self) -> bool {
        let c = self.counts();
        let w = self.within_rules();
        [c.last, c.hourly, c.daily, c.weekly, c.monthly, c.yearly]
            .iter()
            .all(|n| *n == 0)
            && w.within.is_none_or(|d| d.is_zero())
            && w.buckets.iter().all(|d| d.is_none_or(|d| d.is_zero()))
            && self.max_age.is_none()
            && self.recovery_window.is_none()
            && self.keep_tags.is_empty()
    }

    /// One line naming the rules in force, for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, name) in self.count_names() {
            match n {
                -1 => parts.push(format!("{name} all")),
                n if n > 0 => parts.push(format!("{name} {n}")),
                _ => {}
            }
        }
        for tags in &self.keep_tags {
            parts.push(format!("keep_tag {}", tags.join(",")));
        }
        for (d, name) in [
            (self.keep_within, "keep_within"),
            (self.keep_within_hourly, "keep_within_hourly"),
            (self.keep_within_daily, "keep_within_daily"),
            (self.keep_within_weekly, "keep_within_weekly"),
            (self.keep_within_monthly, "keep_within_monthly"),
            (self.keep_within_yearly, "keep_within_yearly"),
        ] {
            if let Some(d) = d.filter(|d| !d.is_zero()) {
                parts.push(format!("{name} {d}"));
            }
        }
        if let Some(a) = self.max_age {
            parts.push(format!("max_age {a}"));
        }
        if let Some(w) = self.recovery_window {
            parts.push(format!("recovery_window {w}"));
        }
        if parts.is_empty() {
            "no rule".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Declares [`RetentionPolicyPatch`] from one list of (key, type, how it is
/// set), so the overlay cannot forget a key.
macro_rules! policy_patch {
    ($( $(#[$attr:meta])* $field:ident : $ty:ty => $set:ident ),* $(,)?) => {
        /// Overrides of a [`RetentionPolicy`]'s keys: what a command line, a
        /// Python call or a runbook gives on top of a profile. A key left
        /// `None` keeps the profile's value. Unknown keys are refused, so a
        /// typo never silently keeps a default.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct RetentionPolicyPatch {
            $(
                #[doc = concat!("Overrides `", stringify!($field), "`.")]
                #[serde(skip_serializing_if = "Option::is_none")]
                $(#[$attr])*
                pub $field: Option<$ty>,
            )*
        }

        impl RetentionPolicyPatch {
            /// `base` with every given key replaced.
            pub fn apply_to(&self, base: &RetentionPolicy) -> RetentionPolicy {
                let mut p = base.clone();
                $( policy_patch!(@set p, self.$field, $field, $set); )*
                p
            }
        }
    };
    (@set $p:ident, $v:expr, $field:ident, value) => {
        if let Some(v) = &$v { $p.$field = v.clone(); }
    };
    (@set $p:ident, $v:expr, $field:ident, some) => {
        if let Some(v) = &$v { $p.$field = Some(v.clone()); }
    };
}

policy_patch! {
    #[serde(deserialize_with = "count_patch")] keep_last: i64 => value,
    #[serde(deserialize_with = "count_patch")] keep_hourly: i64 => value,
    #[serde(deserialize_with = "count_patch")] keep_daily: i64 => value,
    #[serde(deserialize_with = "count_patch")] keep_weekly: i64 => value,
    #[serde(deserialize_with = "count_patch")] keep_monthly: i64 => value,
    #[serde(deserialize_with = "count_patch")] keep_yearly: i64 => value,
    keep_within: ResticDuration => some,
    keep_within_hourly: ResticDuration => some,
    keep_within_daily: ResticDuration => some,
    keep_within_weekly: ResticDuration => some,
    keep_within_monthly: ResticDuration => some,
    keep_within_yearly: ResticDuration => some,
    max_age: Span => some,
    recovery_window: Span => some,
    min_keep: u32 => value,
    min_verified: u32 => value,
    max_total_size: ByteSize => some,
    partial_grace: Span => value,
    timezone: String => value,
    max_delete: MaxDelete => some,
    keep_tags: Vec<Vec<String>> => value,
    restic_compat: ResticCompat => value,
}

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
    fn a_misspelt_key_is_refused() {
        let e = serde_json::from_str::<RetentionPolicyPatch>(r#"{"keep_dayly": 3}"#).unwrap_err();
        assert!(e.to_string().contains("keep_dayly"), "{e}");
    }
}
