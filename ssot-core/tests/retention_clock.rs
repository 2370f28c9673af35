//! Retention at the clock's edges: artifacts dated in the future, DST
//! transitions in a non-UTC `timezone`, leap days, ISO week 53 and year
//! boundaries. Expectations are written from the calendar, not from the code:
//! each case says which bucket an artifact falls in and why.

use chrono::{DateTime, Utc};
use ssot_core::retention::{plan, Action, Artifact, RetentionPlan, RetentionPolicy};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn policy(json: serde_json::Value) -> RetentionPolicy {
    serde_json::from_value(json).unwrap()
}

/// (id, action, reasons as shown) for every artifact, newest first.
fn fates(p: &RetentionPlan) -> Vec<(String, Action, Vec<String>)> {
    p.decisions
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                d.action,
                d.reasons.iter().map(|r| r.to_string()).collect(),
            )
        })
        .collect()
}

fn reasons_of(p: &RetentionPlan, id: &str) -> Vec<String> {
    let d = p.decisions.iter().find(|d| d.id == id).unwrap();
    d.reasons.iter().map(|r| r.to_string()).collect()
}

fn kept(p: &RetentionPlan) -> Vec<&str> {
    p.with_action(Action::Keep).map(|d| d.id.as_str()).collect()
}

#[test]
fn an_artifact_from_the_future_is_kept_named_and_counted_toward_nothing() {
    let now = t("2026-06-10T12:00:00Z");
    let arts = vec![
        Artifact::new("future", t("2026-06-12T12:00:00Z")),
        Artifact::new("ten_days", t("2026-05-31T12:00:00Z")),
        Artifact::new("ten_and_half", t("2026-05-31T00:00:00Z")),
        Artifact::new("twelve_days", t("2026-05-29T12:00:00Z")),
    ];
    let p = plan(
        &arts,
        &policy(serde_json::json!({"keep_within": "1d"})),
        now,
    )
    .unwrap();
    // keep_within counts from the newest artifact *not in the future*
    // (restic's rule): 2026-05-31T12 − 1d = 2026-05-30T12.
    assert_eq!(
        kept(&p),
        ["future", "ten_days", "ten_and_half"],
        "{:?}",
        fates(&p)
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("future") && w.contains("in the future")),
        "{:?}",
        p.warnings
    );
    // It takes no keep_last slot and is not the last good copy: the newest
    // real one is kept by both.
    let p = plan(&arts, &policy(serde_json::json!({"keep_last": 1})), now).unwrap();
    assert_eq!(kept(&p), ["future", "ten_days"], "{:?}", fates(&p));
    assert_eq!(
        reasons_of(&p, "future"),
        ["dated in the future: counts toward no rule or floor"]
    );
    assert_eq!(reasons_of(&p, "ten_days"), ["last 1/1", "last_good_copy"]);
}

#[test]
fn a_fall_back_hour_is_one_hourly_bucket_in_local_time() {
    // Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET. 00:30Z is
    // 02:30 CEST and 01:30Z is 02:30 CET: the same local hour 02.
    let now = t("2026-10-25T06:00:00Z");
    let arts = vec![
        Artifact::new("cest_0230", t("2026-10-25T00:30:00Z")),
        Artifact::new("cet_0230", t("2026-10-25T01:30:00Z")),
        Artifact::new("cet_0330", t("2026-10-25T02:30:00Z")),
    ];
    let hourly = |compat: &str| {
        policy(
            serde_json::json!({"keep_hourly": 5, "timezone": "Europe/Berlin", "restic_compat": compat}),
        )
    };
    let p = plan(&arts, &hourly("0.14"), now).unwrap();
    assert_eq!(kept(&p), ["cet_0330", "cet_0230"], "{:?}", fates(&p));
    assert_eq!(reasons_of(&p, "cet_0230"), ["hourly 2026-10-25T02"]);
    assert_eq!(
        reasons_of(&p, "cet_0330"),
        ["hourly 2026-10-25T03", "last_good_copy"]
    );
    // Today's restic also keeps the oldest, whose bucket was already kept:
    // counts were left when the walk reached it.
    let p = plan(&arts, &hourly("current"), now).unwrap();
    assert_eq!(reasons_of(&p, "cest_0230"), ["oldest hourly 2026-10-25T02"]);
    // In UTC the three are three hours.
    let p = plan(&arts, &policy(serde_json::json!({"keep_hourly": 5})), now).unwrap();
    assert_eq!(kept(&p).len(), 3);
}

#[test]
fn a_spring_forward_gap_skips_an_hour_and_local_midnight_moves_the_day() {
    // Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST. 00:30Z is
    // 01:30 CET, 01:30Z is 03:30 CEST: hours 01 and 03, no 02.
    let now = t("2026-03-29T12:00:00Z");
    let arts = vec![
        Artifact::new("cet_0130", t("2026-03-29T00:30:00Z")),
        Artifact::new("cest_0330", t("2026-03-29T01:30:00Z")),
        // 2026-03-28T23:30Z is already 2026-03-29 00:30 CET: the same local day.
        Artifact::new("local_midnight", t("2026-03-28T23:30:00Z")),
        Artifact::new("day_before", t("2026-03-28T22:30:00Z")),
    ];
    let berlin = |rule: serde_json::Value| {
        let mut v = rule;
        v["timezone"] = "Europe/Berlin".into();
        policy(v)
    };
    let p = plan(&arts, &berlin(serde_json::json!({"keep_hourly": 2})), now).unwrap();
    assert_eq!(
        reasons_of(&p, "cest_0330"),
        ["hourly 2026-03-29T03", "last_good_copy"]
    );
    assert_eq!(reasons_of(&p, "cet_0130"), ["hourly 2026-03-29T01"]);
    let p = plan(&arts, &berlin(serde_json::json!({"keep_daily": 2})), now).unwrap();
    assert_eq!(kept(&p), ["cest_0330", "day_before"], "{:?}", fates(&p));
    assert_eq!(
        reasons_of(&p, "cest_0330"),
        ["daily 2026-03-29", "last_good_copy"]
    );
    assert_eq!(reasons_of(&p, "day_before"), ["daily 2026-03-28"]);
}

#[test]
fn a_leap_day_is_its_own_day_and_month_arithmetic_normalises_like_go() {
    let now = t("2024-03-31T12:00:00Z");
    let arts = vec![
        Artifact::new("mar01", t("2024-03-01T03:00:00Z")),
        Artifact::new("feb29", t("2024-02-29T03:00:00Z")),
        Artifact::new("feb28", t("2024-02-28T03:00:00Z")),
    ];
    let p = plan(&arts, &policy(serde_json::json!({"keep_daily": 2})), now).unwrap();
    assert_eq!(kept(&p), ["mar01", "feb29"]);
    assert_eq!(reasons_of(&p, "feb29"), ["daily 2024-02-29"]);
    // keep_within 1m from 2024-03-01T03: Go's AddDate gives 2024-02-01T03;
    // from a newest of 2024-03-31 it would be "2024-02-31" = 2024-03-02.
    let p = plan(
        &arts,
        &policy(serde_json::json!({"keep_within": "1m"})),
        now,
    )
    .unwrap();
    assert_eq!(kept(&p).len(), 3);
    let late = vec![
        Artifact::new("mar31", t("2024-03-31T03:00:00Z")),
        Artifact::new("mar02", t("2024-03-02T04:00:00Z")),
        Artifact::new("mar01", t("2024-03-01T03:00:00Z")),
    ];
    let p = plan(
        &late,
        &policy(serde_json::json!({"keep_within": "1m"})),
        now,
    )
    .unwrap();
    assert_eq!(kept(&p), ["mar31", "mar02"], "{:?}", fates(&p));
}

#[test]
fn iso_week_53_spans_the_new_year_and_the_year_bucket_does_not() {
    // 2026 begins on a Thursday, so it has an ISO week 53: Monday 2026-12-28
    // to Sunday 2027-01-03. 2027-01-04 is 2027-W01.
    let now = t("2027-01-05T12:00:00Z");
    let arts = vec![
        Artifact::new("jan04", t("2027-01-04T03:00:00Z")),
        Artifact::new("jan01", t("2027-01-01T03:00:00Z")),
        Artifact::new("dec28", t("2026-12-28T03:00:00Z")),
        Artifact::new("dec21", t("2026-12-21T03:00:00Z")),
    ];
    let p = plan(&arts, &policy(serde_json::json!({"keep_weekly": 3})), now).unwrap();
    assert_eq!(kept(&p), ["jan04", "jan01", "dec21"], "{:?}", fates(&p));
    assert_eq!(reasons_of(&p, "jan01"), ["weekly 2026-W53"]);
    assert_eq!(
        reasons_of(&p, "jan04"),
        ["weekly 2027-W01", "last_good_copy"]
    );
    assert_eq!(reasons_of(&p, "dec21"), ["weekly 2026-W52"]);
    // Yearly buckets follow the calendar year, not the ISO year.
    let p = plan(&arts, &policy(serde_json::json!({"keep_yearly": 2})), now).unwrap();
    assert_eq!(kept(&p), ["jan04", "dec28"]);
    assert_eq!(reasons_of(&p, "dec28"), ["yearly 2026"]);
}

#[test]
fn the_year_boundary_is_local_to_the_time_zone() {
    // 2026-12-31T23:30Z is 2027-01-01 08:30 in Tokyo and 18:30 on
    // 2026-12-31 in New York.
    let now = t("2027-01-02T00:00:00Z");
    let arts = vec![
        Artifact::new("late", t("2026-12-31T23:30:00Z")),
        Artifact::new("earlier", t("2026-12-31T10:00:00Z")),
    ];
    let yearly = |tz: &str| policy(serde_json::json!({"keep_yearly": 5, "timezone": tz}));
    let p = plan(&arts, &yearly("Asia/Tokyo"), now).unwrap();
    assert_eq!(reasons_of(&p, "late"), ["yearly 2027", "last_good_copy"]);
    assert_eq!(reasons_of(&p, "earlier"), ["yearly 2026"]);
    let p = plan(&arts, &yearly("America/New_York"), now).unwrap();
    assert_eq!(reasons_of(&p, "late"), ["yearly 2026", "last_good_copy"]);
    // One bucket: the newest is kept for it, and (counts left) the oldest too.
    assert_eq!(reasons_of(&p, "earlier"), ["oldest yearly 2026"]);
    let mut p014 = yearly("America/New_York");
    p014.restic_compat = ssot_core::retention::ResticCompat::V0_14;
    let p = plan(&arts, &p014, now).unwrap();
    assert_eq!(
        p.with_action(Action::Delete).count(),
        1,
        "0.14: one bucket, the newest only"
    );
}
