//! restic-compatible bucket rules (`restic forget --keep-*`).
//!
//! The semantics are those of Debian's restic 0.14, which the comparison
//! data in `tests/retention/restic/` was generated with:
//!
//! * artifacts are walked newest first;
//! * `keep_last/hourly/daily/weekly/monthly/yearly N`: an artifact is kept
//!   when its bucket (the artifact itself, its local `YYYY-MM-DDTHH`,
//!   `YYYY-MM-DD`, ISO `YYYY-Www`, `YYYY-MM`, `YYYY`) differs from the
//!   previous kept bucket of that rule and the rule still has counts left;
//!   each keep uses one count;
//! * `keep_within D`: kept when created strictly after `latest − D`, where
//!   `latest` is the newest artifact not in the future and `− D` is Go's
//!   `AddDate(−years, −months, −days)` in local time followed by `− hours`;
//! * `keep_within_<bucket> D`: like the bucket rules, without a count, for
//!   artifacts created within `D` of `latest`.
//!
//! Buckets use local wall time in the policy's time zone. DST: the repeated
//! hour of a fall-back shares one hourly bucket (its local hour number), and a
//! spring-forward gap simply has no artifacts; `keep_within` arithmetic that
//! lands in a gap moves forward by the gap, in an overlap takes the later
//! instant — Go's `time.Date` rules, so restic and ssot agree.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::RetentionReason;
use crate::error::Error;

/// restic's duration: `1y5m7d2h` (years, months, days, hours). A repeated unit
/// replaces the earlier one, as in restic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ResticDuration {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
}

impl ResticDuration {
    /// True when every part is zero (the rule is off).
    pub fn is_zero(&self) -> bool {
        *self == ResticDuration::default()
    }

    /// `t − self` the way restic computes it: calendar arithmetic in `tz`
    /// local time (Go's `AddDate`, with its normalisation of overflowing
    /// days), then whole hours subtracted as elapsed time.
    pub fn before(&self, t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        // Checked all the way: a duration reaching before the representable
        // range keeps everything, as an unlimited window would.
        let local = t.with_timezone(&tz).naive_local();
        let months = local.year() as i64 * 12 + local.month0() as i64
            - self.years as i64 * 12
            - self.months as i64;
        let (y, m) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
        i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, 1))
            .and_then(|first| {
                first.checked_add_signed(TimeDelta::days(local.day() as i64 - 1 - self.days as i64))
            })
            .and_then(|date| go_local_to_utc(date.and_time(local.time()), tz))
            .and_then(|t| t.checked_sub_signed(TimeDelta::hours(self.hours as i64)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Resolves a local wall time to an instant the way Go's `time.Date` does:
/// in an overlap the later instant, in a gap the time shifted forward by the
/// gap. `None` only at the edges of the representable range.
pub(crate) fn go_local_to_utc(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let off = |utc: NaiveDateTime| tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() as i64;
    let first = off(naive);
    let utc = naive.checked_sub_signed(TimeDelta::seconds(first))?;
    let second = off(utc);
    let chosen = if second == first { first } else { second };
    Some(Utc.from_utc_datetime(&naive.checked_sub_signed(TimeDelta::seconds(chosen))?))
}

impl fmt::Display for ResticDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0h");
        }
        for (v, u) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if v != 0 {
                write!(f, "{v}{u}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for ResticDuration {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Error> {
        let err = |message: String| Error::Unit {
            what: "restic duration",
            input: input.to_string(),
            message,
        };
        let mut d = ResticDuration::default();
        let mut rest = input.trim();
        if rest.is_empty() {
            return Err(err("expected e.g. 7d, 36h or 1y5m7d2h".into()));
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return Err(err(format!("expected a number at \"{rest}\"")));
            }
            let n: u32 = rest[..digits]
                .parse()
                .map_err(|_| err("number out of range".into()))?;
            let unit = rest[digits..]
                .chars()
                .next()
                .ok_or_else(|| err(format!("no unit after {n} (units: y, m, d, h)")))?;
            match unit {
                'y' => d.years = n,
                'm' => d.months = n,
                'd' => d.days = n,
                'h' => d.hours = n,
                other => {
                    return Err(err(format!(
                        "invalid unit '{other}' after {n} (units: y, m, d, h)"
                    )))
                }
            }
            rest = &rest[digits + unit.len_utf8()..];
        }
        Ok(d)
    }
}

impl Serialize for ResticDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ResticDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A restic bucket kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `keep_last`: every artifact is its own bucket.
    Last,
    /// Local hour.
    Hourly,
    /// Local day.
    Daily,
    /// ISO week.
    Weekly,
    /// Month.
    Monthly,
    /// Year.
    Yearly,
}

impl Bucket {
    pub(crate) const TIMED: [Bucket; 5] = [
        Bucket::Hourly,
        Bucket::Daily,
        Bucket::Weekly,
        Bucket::Monthly,
        Bucket::Yearly,
    ];

    /// `last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Last => "last",
            Bucket::Hourly => "hourly",
            Bucket::Daily => "daily",
            Bucket::Weekly => "weekly",
            Bucket::Monthly => "monthly",
            Bucket::Yearly => "yearly",
        }
    }

    /// The bucket of a local time, as a comparable key and a label.
    fn key(self, local: NaiveDateTime, nr: usize) -> i64 {
        let (y, m, d, h) = (
            local.year() as i64,
            local.month() as i64,
            local.day() as i64,
            local.hour() as i64,
        );
        match self {
            Bucket::Last => nr as i64,
            Bucket::Hourly => ((y * 100 + m) * 100 + d) * 100 + h,
            Bucket::Daily => (y * 100 + m) * 100 + d,
            Bucket::Weekly => {
                let w = local.date().iso_week();
                w.year() as i64 * 100 + w.week() as i64
            }
            Bucket::Monthly => y * 100 + m,
            Bucket::Yearly => y,
        }
    }

    /// The bucket's name as a reason shows it (`2026-11-20T14`, `2026-11-20`,
    /// `2026-W47`, `2026-11`, `2026`); built only for kept artifacts.
    fn label(self, local: NaiveDateTime) -> String {
        let (y, m, d, h) = (local.year(), local.month(), local.day(), local.hour());
        match self {
            Bucket::Last => String::new(),
            Bucket::Hourly => format!("{y:04}-{m:02}-{d:02}T{h:02}"),
            Bucket::Daily => format!("{y:04}-{m:02}-{d:02}"),
            Bucket::Weekly => {
                let w = local.date().iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
            Bucket::Monthly => format!("{y:04}-{m:02}"),
            Bucket::Yearly => format!("{y:04}"),
        }
    }
}

/// The bucket rules' counts; `-1` keeps every bucket.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BucketCounts {
    pub last: i64,
    pub hourly: i64,
    pub daily: i64,
    pub weekly: i64,
    pub monthly: i64,
    pub yearly: i64,
}

/// Durations for `keep_within` and the `keep_within_<bucket>` rules.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WithinRules {
    pub within: Option<ResticDuration>,
    /// Indexed like [`Bucket::TIMED`].
    pub buckets: [Option<ResticDuration>; 5],
}

/// The bucket rules in the order restic applies them, indexed like [`BucketCounts`].
const COUNTED: [Bucket; 6] = [
    Bucket::Last,
    Bucket::Hourly,
    Bucket::Daily,
    Bucket::Weekly,
    Bucket::Monthly,
    Bucket::Yearly,
];

/// The `keep_within_<bucket>` rules for the artifact at `t` (`local` in the
/// profile's zone, `nr` in the walk): a rule keeps the first artifact of
/// each of its buckets after its cutoff (and the oldest, with `oldest`).
fn within_bucket_reasons(
    within_buckets: &[(usize, ResticDuration, Option<DateTime<Utc>>)],
    within_last: &mut [Option<i64>; 5],
    (t, local, nr): (DateTime<Utc>, chrono::NaiveDateTime, usize),
    is_oldest: bool,
    r: &mut Vec<RetentionReason>,
) {
    for (i, d, c) in within_buckets {
        if c.is_some_and(|c| t <= c) {
            continue;
        }
        let kind = Bucket::TIMED[*i];
        let key = kind.key(local, nr);
        let new_bucket = within_last[*i] != Some(key);
        if new_bucket || is_oldest {
            within_last[*i] = Some(key);
            let reason = RetentionReason::BucketWithin {
                bucket: kind,
                within: *d,
                label: kind.label(local),
            };
            r.push(as_kept(reason, new_bucket));
        }
    }
}

/// Applies the restic rules to the complete artifacts of one group, given
/// newest first by their times and tags, and returns the positions that are
/// kept, in order, each with its reasons — in restic's order of checks:
/// tags (which use up no count), `keep_within`, the bucket rules, the
/// `keep_within_<bucket>` rules.
///
/// With `oldest` (today's restic, since 0.16): a bucket rule that still has
/// counts left when the walk reaches the oldest artifact keeps it even when
/// its bucket was already kept, with the reason "oldest …".
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    times: &[DateTime<Utc>],
    tags: &[&[String]],
    keep_tags: &[Vec<String>],
    counts: BucketCounts,
    within: WithinRules,
    oldest: bool,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<(usize, Vec<RetentionReason>)> {
    let mut kept = Vec::new();
    let latest = times.iter().copied().filter(|t| *t < now).max();
    // A cutoff of None means every artifact is within (no artifact before now, as restic's zero time).
    let cutoff = |d: ResticDuration| latest.map(|l| d.before(l, tz));
    let within_cutoff = within
        .within
        .filter(|d| !d.is_zero())
        .map(|d| (d, cutoff(d)));
    let total = [
        counts.last,
        counts.hourly,
        counts.daily,
        counts.weekly,
        counts.monthly,
        counts.yearly,
    ];
    let mut left = total;
    let mut last: [Option<i64>; 6] = [None; 6];
    let within_buckets: Vec<(usize, ResticDuration, Option<DateTime<Utc>>)> = within
        .buckets
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.filter(|d| !d.is_zero()).map(|d| (i, d, cutoff(d))))
        .collect();
    let mut within_last: [Option<i64>; 5] = [None; 5];
    let oldest_nr = times.len().checked_sub(1);

    for (nr, t) in times.iter().enumerate() {
        if keep_tags.is_empty()
            && within_cutoff.is_none()
            && within_buckets.is_empty()
            && left.iter().all(|l| *l == 0)
        {
            break; // every count is used up and no other rule: nothing more is kept
        }
        let is_oldest = oldest && Some(nr) == oldest_nr;
        let local = t.with_timezone(&tz).naive_local();
        let mut r = Vec::new();
        let artifact_tags = tags.get(nr).copied().unwrap_or_default();
        for list in keep_tags {
            if list.iter().all(|tag| artifact_tags.contains(tag)) {
                r.push(RetentionReason::HasTags(list.clone()));
            }
        }
        if let Some((d, c)) = within_cutoff {
            if c.is_none_or(|c| *t > c) {
                r.push(RetentionReason::Within(d));
            }
        }
        for (i, kind) in COUNTED.iter().enumerate() {
            if left[i] == 0 {
                continue;
            }
            let key = kind.key(local, nr);
            let new_bucket = last[i] != Some(key);
            if new_bucket || is_oldest {
                last[i] = Some(key);
                if left[i] > 0 {
                    left[i] -= 1;
                }
                let reason = match kind {
                    Bucket::Last => RetentionReason::Last {
                        nth: u32::try_from(nr + 1).unwrap_or(u32::MAX),
                        of: u32::try_from(total[i]).ok(),
                    },
                    _ => RetentionReason::Bucket {
                        bucket: *kind,
                        label: kind.label(local),
                    },
                };
                r.push(as_kept(reason, new_bucket));
            }
        }
        within_bucket_reasons(
            &within_buckets,
            &mut within_last,
            (*t, local, nr),
            is_oldest,
            &mut r,
        );
        if !r.is_empty() {
            kept.push((nr, r));
        }
    }
    kept
}

/// A bucket rule's reason as given: itself for a new bucket, else (the
/// oldest artifact, its bucket already kept) "oldest …".
fn as_kept(reason: RetentionReason, new_bucket: bool) -> RetentionReason {
    if new_bucket {
        reason
    } else {
        RetentionReason::Oldest(Box::new(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_restic() {
        let d: ResticDuration = "1y5m7d2h".parse().unwrap();
        assert_eq!((d.years, d.months, d.days, d.hours), (1, 5, 7, 2));
        assert_eq!(d.to_string(), "1y5m7d2h");
        assert_eq!("36h".parse::<ResticDuration>().unwrap().hours, 36);
        assert_eq!(
            "2d3d".parse::<ResticDuration>().unwrap().days,
            3,
            "last one wins"
        );
        for bad in ["", "7", "d", "7w", "-1d", "1.5d", "7D"] {
            assert!(bad.parse::<ResticDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn add_date_normalises_like_go() {
        let utc: Tz = "UTC".parse().unwrap();
        let t: DateTime<Utc> = "2026-03-31T10:00:00Z".parse().unwrap();
        // Go: 2026-03-31 minus one month = 2026-02-31 = 2026-03-03.
        let d = ResticDuration {
            months: 1,
            ..Default::default()
        };
        assert_eq!(
            d.before(t, utc),
            "2026-03-03T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let d = ResticDuration {
            years: 1,
            days: 1,
            hours: 36,
            ..Default::default()
        };
        assert_eq!(
            d.before(t, utc),
            "2025-03-28T22:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn dst_resolution_matches_go() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Gap: 2026-03-29 02:30 does not exist; Go moves it to 03:30 CEST = 01:30Z.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            go_local_to_utc(gap, berlin),
            Some("2026-03-29T01:30:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        // Overlap: 2026-10-25 02:30 happens twice; Go takes the later (CET) one = 01:30Z.
        let overlap = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            go_local_to_utc(overlap, berlin),
            Some("2026-10-25T01:30:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        let plain = NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            go_local_to_utc(plain, berlin),
            Some("2026-07-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
    }
}
