//! [`WalRule`]: every rule the WAL status can fire, typed, with the level it
//! asserts; and [`ProbeFailure`], the live probe's failure classes, each of
//! which fires its own rule.

use serde::{Deserialize, Serialize};

use super::Level;

/// One WAL rule (the table in [`crate::wal`]'s docs). Its serde name and
/// [`WalRule::as_str`] are the stable id written in `wal.status`, the JSON
/// and the report; [`WalRule::level`] is the level it asserts. Adding a
/// variant is the only edit that makes a rule known to the evaluator, the
/// state reader and the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum WalRule {
    /// pg_wal or a volume could not be measured.
    MeasurementFailed,
    /// A live probe was asked for and nothing answered.
    PostgresUnreachable,
    /// The server answered that it is starting up.
    PostgresStarting,
    /// The server answered that it is replaying WAL.
    PostgresInRecovery,
    /// The server refuses connections for another reason.
    PostgresRefused,
    /// The server refused the probe's role.
    PostgresAuthFailed,
    /// The probe's role may not read what the probe needs.
    PostgresPrivilegeMissing,
    /// The probe could not run.
    PostgresProbeUnusable,
    /// Volume used ≥ `volume_error_pct`.
    VolumeUsedError,
    /// Volume available < the free floor.
    VolumeFreeFloor,
    /// pg_wal > `hard_limit_factor` × soft limit.
    WalFarBeyondSoftLimit,
    /// A replication slot is `lost`.
    SlotLost,
    /// The volume reaches its error threshold within `error_horizon`.
    TimeToError,
    /// Volume used ≥ `volume_near_pct`.
    VolumeUsedNear,
    /// pg_wal over its soft limit.
    WalOverSoftLimit,
    /// A replication slot is `unreserved`.
    SlotUnreserved,
    /// A slot's `safe_wal_size` is below `max_wal_size`.
    SlotSafeWalLow,
    /// The volume reaches its error threshold within `near_horizon`.
    TimeToNear,
    /// pg_wal grew monotonically by ≥ `growth_min_bytes`.
    WalGrowing,
    /// `.ready` files wait beyond what is tolerated.
    ReadyBacklog,
    /// An inactive slot holds WAL back.
    SlotInactive,
    /// The archiver's last attempt failed.
    ArchiverFailing,
}

impl WalRule {
    /// Every rule, worst level first.
    pub const ALL: [WalRule; 22] = [
        WalRule::MeasurementFailed,
        WalRule::PostgresUnreachable,
        WalRule::PostgresStarting,
        WalRule::PostgresInRecovery,
        WalRule::PostgresRefused,
        WalRule::PostgresAuthFailed,
        WalRule::PostgresPrivilegeMissing,
        WalRule::PostgresProbeUnusable,
        WalRule::VolumeUsedError,
        WalRule::VolumeFreeFloor,
        WalRule::WalFarBeyondSoftLimit,
        WalRule::SlotLost,
        WalRule::TimeToError,
        WalRule::VolumeUsedNear,
        WalRule::WalOverSoftLimit,
        WalRule::SlotUnreserved,
        WalRule::SlotSafeWalLow,
        WalRule::TimeToNear,
        WalRule::WalGrowing,
        WalRule::ReadyBacklog,
        WalRule::SlotInactive,
        WalRule::ArchiverFailing,
    ];

    /// The stable id (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            WalRule::MeasurementFailed => "measurement_failed",
            WalRule::PostgresUnreachable => "postgres_unreachable",
            WalRule::PostgresStarting => "postgres_starting",
            WalRule::PostgresInRecovery => "postgres_in_recovery",
            WalRule::PostgresRefused => "postgres_refused",
            WalRule::PostgresAuthFailed => "postgres_auth_failed",
            WalRule::PostgresPrivilegeMissing => "postgres_privilege_missing",
            WalRule::PostgresProbeUnusable => "postgres_probe_unusable",
            WalRule::VolumeUsedError => "volume_used_error",
            WalRule::VolumeFreeFloor => "volume_free_floor",
            WalRule::WalFarBeyondSoftLimit => "wal_far_beyond_soft_limit",
            WalRule::SlotLost => "slot_lost",
            WalRule::TimeToError => "time_to_error",
            WalRule::VolumeUsedNear => "volume_used_near",
            WalRule::WalOverSoftLimit => "wal_over_soft_limit",
            WalRule::SlotUnreserved => "slot_unreserved",
            WalRule::SlotSafeWalLow => "slot_safe_wal_low",
            WalRule::TimeToNear => "time_to_near",
            WalRule::WalGrowing => "wal_growing",
            WalRule::ReadyBacklog => "ready_backlog",
            WalRule::SlotInactive => "slot_inactive",
            WalRule::ArchiverFailing => "archiver_failing",
        }
    }

    /// The level this rule asserts when it fires.
    pub const fn level(self) -> Level {
        match self {
            WalRule::MeasurementFailed
            | WalRule::PostgresUnreachable
            | WalRule::PostgresStarting
            | WalRule::PostgresInRecovery
            | WalRule::PostgresRefused
            | WalRule::PostgresAuthFailed
            | WalRule::PostgresPrivilegeMissing
            | WalRule::PostgresProbeUnusable
            | WalRule::VolumeUsedError
            | WalRule::VolumeFreeFloor
            | WalRule::WalFarBeyondSoftLimit
            | WalRule::SlotLost
            | WalRule::TimeToError => Level::Error,
            WalRule::VolumeUsedNear
            | WalRule::WalOverSoftLimit
            | WalRule::SlotUnreserved
            | WalRule::SlotSafeWalLow
            | WalRule::TimeToNear => Level::NearLimit,
            WalRule::WalGrowing
            | WalRule::ReadyBacklog
            | WalRule::SlotInactive
            | WalRule::ArchiverFailing => Level::Growing,
        }
    }

    /// The probe failure this rule reports, for the `postgres_*` rules that
    /// judge a running server through the live probe.
    pub const fn probe_failure(self) -> Option<ProbeFailure> {
        match self {
            WalRule::PostgresUnreachable => Some(ProbeFailure::Unreachable),
            WalRule::PostgresStarting => Some(ProbeFailure::Starting),
            WalRule::PostgresInRecovery => Some(ProbeFailure::InRecovery),
            WalRule::PostgresRefused => Some(ProbeFailure::Refused),
            WalRule::PostgresAuthFailed => Some(ProbeFailure::Authentication),
            WalRule::PostgresPrivilegeMissing => Some(ProbeFailure::Privilege),
            WalRule::PostgresProbeUnusable => Some(ProbeFailure::Unusable),
            _ => None,
        }
    }

    /// Whether this rule judges a running server through the live probe
    /// (one of [`ProbeFailure`]'s): the startup gate leaves those out (a
    /// server that is down must be startable).
    pub const fn is_probe(self) -> bool {
        self.probe_failure().is_some()
    }

    /// Whether this rule judges what the running server reported about
    /// itself (its slots, its archiver). When the server does not answer,
    /// these come from the last probe that did: facts for the report and the
    /// backup gates, never a reason to keep the server from starting (a slot
    /// can only be dropped while it runs).
    pub const fn is_server_fact(self) -> bool {
        matches!(
            self,
            WalRule::SlotLost
                | WalRule::SlotUnreserved
                | WalRule::SlotSafeWalLow
                | WalRule::SlotInactive
                | WalRule::ArchiverFailing
        )
    }
}

named_id!(WalRule, "WAL rule", "not a rule of the WAL status");

/// Why a live probe failed, from libpq's and the server's own words: each
/// class has its own rule and its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFailure {
    /// Nothing answered: no server on the socket or port, refused, timed out.
    Unreachable,
    /// The server answered that it is starting up.
    Starting,
    /// The server answered that it is replaying WAL (crash recovery, or an
    /// archive recovery that has not reached consistency) and accepts no
    /// connections until it is done.
    InRecovery,
    /// A server answered but accepts no connections now for another reason:
    /// shutting down, out of connection slots.
    Refused,
    /// The server refused the probe's role or database.
    Authentication,
    /// Connected, but the role may not read what the probe needs.
    Privilege,
    /// The probe itself could not run: no `psql`, or a DSN libpq cannot parse.
    Unusable,
}

impl ProbeFailure {
    /// Every class.
    pub const ALL: [ProbeFailure; 7] = [
        ProbeFailure::Unreachable,
        ProbeFailure::Starting,
        ProbeFailure::InRecovery,
        ProbeFailure::Refused,
        ProbeFailure::Authentication,
        ProbeFailure::Privilege,
        ProbeFailure::Unusable,
    ];

    /// Classifies a failed probe by its message (libpq's and the server's
    /// texts are stable across PostgreSQL 12–17, in English: a server with
    /// another `lc_messages` answers in its language and reads as
    /// unreachable). Only the words after libpq's last "failed:" are the
    /// server's: a socket path or host name before it is not read.
    pub fn classify(why: &str) -> Self {
        let lower = why.to_ascii_lowercase();
        let w = lower
            .rsplit_once("failed:")
            .map_or(lower.as_str(), |(_, w)| w);
        let any = |needles: &[&str]| needles.iter().any(|n| w.contains(n));
        if lower.contains("cannot run ")
            || any(&[
                "invalid connection option",
                "missing \"=\" after",
                "invalid uri",
                "unterminated quoted string",
                "invalid integer value",
                "invalid sslmode value",
                "invalid port number",
            ])
        {
            ProbeFailure::Unusable
        } else if any(&[
            "permission denied for",
            "must be superuser",
            "must be a member of",
            "privileges of",
        ]) {
            ProbeFailure::Privilege
        } else if any(&["the database system is starting up"]) {
            ProbeFailure::Starting
        } else if any(&[
            "not yet accepting connections",
            "the database system is in recovery mode",
            "consistent recovery state has not been yet reached",
        ]) {
            ProbeFailure::InRecovery
        } else if any(&[
            "the database system is shutting down",
            "the database system is not accepting connections",
            "too many clients",
            "too many connections for",
            "remaining connection slots are reserved",
            "is not currently accepting connections",
        ]) {
            ProbeFailure::Refused
        } else if any(&[
            "authentication failed",
            "no password supplied",
            "password is required",
            "no pg_hba.conf entry",
            "pg_hba.conf rejects",
            "role \"",
            "database \"",
            "fe_sendauth",
        ]) {
            ProbeFailure::Authentication
        } else {
            ProbeFailure::Unreachable
        }
    }

    /// The rule this failure fires.
    pub const fn rule(self) -> WalRule {
        match self {
            ProbeFailure::Unreachable => WalRule::PostgresUnreachable,
            ProbeFailure::Starting => WalRule::PostgresStarting,
            ProbeFailure::InRecovery => WalRule::PostgresInRecovery,
            ProbeFailure::Refused => WalRule::PostgresRefused,
            ProbeFailure::Authentication => WalRule::PostgresAuthFailed,
            ProbeFailure::Privilege => WalRule::PostgresPrivilegeMissing,
            ProbeFailure::Unusable => WalRule::PostgresProbeUnusable,
        }
    }

    /// What the server did, as the end of "PostgreSQL at SERVER …".
    pub const fn what(self) -> &'static str {
        match self {
            ProbeFailure::Unreachable => "did not answer the live probe",
            ProbeFailure::Starting => "is starting up",
            ProbeFailure::InRecovery => "is in recovery and accepts no connections yet",
            ProbeFailure::Refused => "refuses connections",
            ProbeFailure::Authentication => "refused the live probe's role",
            ProbeFailure::Privilege => "does not let the live probe read what it needs",
            ProbeFailure::Unusable => "could not be probed: the probe itself cannot run",
        }
    }

    /// What the operator can do about it.
    pub const fn advice(self) -> &'static str {
        match self {
            ProbeFailure::Unreachable => {
                "is PostgreSQL running, and does the DSN name its socket directory or host and port?"
            }
            ProbeFailure::Starting => {
                "the server is starting: check again in a moment; if it stays here, read its log"
            }
            ProbeFailure::InRecovery => {
                "the server is replaying WAL and accepts connections when it reaches consistency: let it finish (do not delete anything from pg_wal), and follow its progress in its log"
            }
            ProbeFailure::Refused => {
                "the server is stopping or out of connection slots: check again when it accepts connections, or reserve a slot for the probe's role"
            }
            ProbeFailure::Authentication => {
                "give the probe a role pg_hba.conf admits, with its password in the DSN, a service file or .pgpass"
            }
            ProbeFailure::Privilege => {
                "the probe needs pg_monitor: GRANT pg_monitor TO the probe's role"
            }
            ProbeFailure::Unusable => {
                "install psql (Debian's postgresql-client) where ssot runs, and check the DSN's keywords and values"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::WalStatusRecord;
    use crate::statefile::StateFile;
    use crate::wal::{evaluate, Reason, VolumeStats, WalFacts, WalPolicy};

    #[test]
    fn every_rule_round_trips_through_its_name_serde_and_display() {
        for rule in WalRule::ALL {
            let name = rule.as_str();
            assert_eq!(name.parse::<WalRule>().unwrap(), rule);
            assert_eq!(rule.to_string(), name);
            assert_eq!(serde_json::to_value(rule).unwrap(), name, "{rule:?}");
            assert_eq!(
                serde_json::from_value::<WalRule>(name.into()).unwrap(),
                rule
            );
            assert!(WalRule::ALL.iter().filter(|r| **r == rule).count() == 1);
        }
        assert!("no_such_rule".parse::<WalRule>().is_err());
        assert!(serde_json::from_value::<WalRule>("no_such_rule".into()).is_err());
    }

    #[test]
    fn all_is_ordered_worst_first_and_every_level_but_ok_is_asserted() {
        assert!(WalRule::ALL
            .windows(2)
            .all(|w| w[0].level() >= w[1].level()));
        for level in [Level::Error, Level::NearLimit, Level::Growing] {
            assert!(WalRule::ALL.iter().any(|r| r.level() == level), "{level}");
        }
        assert!(WalRule::ALL.iter().all(|r| r.level() != Level::Ok));
    }

    #[test]
    fn probe_rules_are_exactly_the_probe_failures_rules() {
        for class in ProbeFailure::ALL {
            assert_eq!(class.rule().probe_failure(), Some(class));
            assert_eq!(class.rule().level(), Level::Error);
        }
        let probes = WalRule::ALL.iter().filter(|r| r.is_probe()).count();
        assert_eq!(probes, ProbeFailure::ALL.len());
        assert!(WalRule::ALL
            .iter()
            .all(|r| !(r.is_probe() && r.is_server_fact())));
        assert!(WalRule::ALL
            .iter()
            .filter(|r| r.is_server_fact())
            .all(|r| r.as_str().starts_with("slot_") || *r == WalRule::ArchiverFailing));
    }

    /// The rule tables of the module docs and of `docs/src/wal.md` list
    /// exactly the rules of the enum, each at its level.
    #[test]
    fn the_rule_tables_in_the_docs_list_every_rule_at_its_level() {
        let table = |text: &str, prefix: &str| -> Vec<(String, String)> {
            text.lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .filter_map(|l| l.strip_prefix("| `"))
                .filter_map(|l| {
                    let (rule, rest) = l.split_once("` | ")?;
                    let (level, _) = rest.split_once(" | ")?;
                    Some((rule.to_string(), level.to_string()))
                })
                .collect()
        };
        let mut want: Vec<(String, String)> = WalRule::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), r.level().as_str().to_string()))
            .collect();
        want.sort();
        let book = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/wal.md");
        let book = std::fs::read_to_string(book).unwrap();
        for (what, mut rows) in [
            ("wal module docs", table(include_str!("../wal.rs"), "//! ")),
            ("docs/src/wal.md", table(&book, "")),
        ] {
            rows.sort();
            assert_eq!(rows, want, "{what}");
        }
    }

    /// A rule added to the enum can never be unknown to the state reader:
    /// a `wal.status` written with it reads back with it.
    #[test]
    fn a_wal_status_written_for_every_rule_reads_back() {
        let now = "2026-02-05T12:00:00Z".parse().unwrap();
        let facts = WalFacts::new(96 << 20, 6, VolumeStats::new(100 << 30, 62 << 30));
        for rule in WalRule::ALL {
            let mut report = evaluate(&facts, &WalPolicy::default(), now);
            report.reasons = vec![Reason {
                rule,
                level: rule.level(),
                message: format!("{rule} fired"),
                value: None,
                threshold: None,
                unit: None,
                held: false,
            }];
            report.status = rule.level();
            let mut file = StateFile::new("wal.status");
            crate::state::write_wal_status(&mut file, &report).unwrap();
            let back = StateFile::parse(file.render().as_bytes(), "wal.status").unwrap();
            let rec = WalStatusRecord::from_file(&back).unwrap_or_else(|e| panic!("{rule}: {e}"));
            assert_eq!(rec.rules(), vec![rule]);
            assert_eq!(rec.status, rule.level());
            assert_eq!(
                rec.previous().active_rules,
                report.as_previous().active_rules
            );
            assert_eq!(rec.reasons.len(), 1);
        }
    }
}
