//! WAL archiving: off in the StatefulSet's args and no archiver process
//! (seed STAGE 5), or on and configured when the contract declares it.

use super::guc;
use super::{process_lines, ContractConfig, ContractInputs, Inv, InvariantId, InvariantStatus};
use crate::inputs::{self, StatefulSetFacts};

pub(super) const ARCHIVE_ARGS: [&str; 3] = ["archive_mode", "archive_command", "archive_timeout"];

/// `sts.archive_disabled` (or `sts.archive_enabled`): what the args pass.
pub(super) fn args(
    inv: &mut Inv,
    sts: Option<&super::Sourced<StatefulSetFacts>>,
    contract: &ContractConfig,
) {
    match sts {
        None => inv.unknown(InvariantId::StsArchiveDisabled, "statefulset"),
        Some(s) => {
            let present: Vec<&inputs::ArgSetting> = ARCHIVE_ARGS
                .iter()
                .filter_map(|a| s.value.settings.get(*a))
                .collect();
            let evidence: Vec<String> = present
                .iter()
                .map(|a| format!("{} ({})", a.arg, s.origin))
                .collect();
            if contract.archive_mode {
                let on = s
                    .value
                    .settings
                    .get("archive_mode")
                    .and_then(|a| guc::parse_value("archive_mode", &a.value).ok());
                let ok = on.is_some_and(|v| v.is_word("on") || v.is_word("always"))
                    && s.value
                        .settings
                        .get("archive_command")
                        .is_some_and(|a| !a.value.is_empty());
                inv.push(
                    InvariantId::StsArchiveEnabled,
                    if ok { InvariantStatus::Pass } else { InvariantStatus::Fail },
                    evidence,
                    if ok { "archiving is declared on and configured".into() } else { "archiving is declared on but archive_mode=on and an archive_command are not both in the args".into() },
                );
            } else if present.is_empty() {
                inv.push(
                    InvariantId::StsArchiveDisabled,
                    InvariantStatus::Pass,
                    vec![format!(
                        "no archive_mode, archive_command or archive_timeout in {}",
                        s.origin
                    )],
                    "WAL archiving is not passed to PostgreSQL, as declared".into(),
                );
            } else {
                inv.push(
                    InvariantId::StsArchiveDisabled,
                    InvariantStatus::Fail,
                    evidence,
                    format!(
                        "WAL archiving is declared disabled, but the StatefulSet passes {}",
                        present
                            .iter()
                            .map(|a| a.arg.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// `conf.archive_disabled` (or `conf.archive_enabled`): on a host, what the
/// configuration PostgreSQL reads sets. An `archive_command` without
/// `archive_mode` on is inert; `archive_mode` on is archiving.
pub(super) fn conf(
    inv: &mut Inv,
    conf: Option<&super::Sourced<inputs::PostgresqlConf>>,
    contract: &ContractConfig,
) {
    let id = if contract.archive_mode {
        InvariantId::ConfArchiveEnabled
    } else {
        InvariantId::ConfArchiveDisabled
    };
    let Some(c) = conf else {
        inv.unknown(id, "postgresql_conf");
        return;
    };
    let evidence: Vec<String> = ARCHIVE_ARGS
        .iter()
        .chain(&["archive_library"])
        .filter_map(|n| {
            c.value
                .settings
                .get(*n)
                .map(|l| format!("{} {n} = '{}'", l.at(), l.value))
        })
        .collect();
    let mode = c.value.settings.get("archive_mode");
    // A value PostgreSQL refuses keeps it from starting: that fails, it is
    // never read as "off".
    if let Some(Err(e)) = mode.map(|l| guc::parse_value("archive_mode", &l.value)) {
        inv.push(
            id,
            InvariantStatus::Fail,
            evidence,
            format!("PostgreSQL refuses this setting and will not start: {e}"),
        );
        return;
    }
    let on = mode
        .and_then(|l| guc::parse_value("archive_mode", &l.value).ok())
        .is_some_and(|v| v.is_word("on") || v.is_word("always"));
    let command = ["archive_command", "archive_library"].iter().any(|n| {
        c.value
            .settings
            .get(*n)
            .is_some_and(|l| !l.value.is_empty())
    });
    let (status, message) = match (contract.archive_mode, on) {
        (true, true) if command => (
            InvariantStatus::Pass,
            "archiving is declared on and configured".to_string(),
        ),
        (true, _) => (
            InvariantStatus::Fail,
            "archiving is declared on but the configuration does not set both archive_mode = on and an archive_command".to_string(),
        ),
        (false, false) => (
            InvariantStatus::Pass,
            "WAL archiving is off in the configuration, as declared".to_string(),
        ),
        (false, true) => (
            InvariantStatus::Fail,
            format!(
                "WAL archiving is declared disabled, but {} sets archive_mode = {}",
                mode.map(|l| l.at()).unwrap_or_default(),
                mode.map(|l| l.value.as_str()).unwrap_or_default()
            ),
        ),
    };
    let evidence = if evidence.is_empty() {
        vec![format!("no archive setting in {}", c.origin)]
    } else {
        evidence
    };
    inv.push(id, status, evidence, message);
}

/// `processes.no_archiver` (or `processes.archiver_running`).
pub(super) fn processes(inv: &mut Inv, inputs: &ContractInputs, contract: &ContractConfig) {
    // No archiver process (seed: ps aux | grep '[p]ostgres: archiver').
    match &inputs.processes {
        None => inv.unknown(InvariantId::ProcessesNoArchiver, "processes"),
        Some(p) => {
            let pg = p
                .value
                .iter()
                .filter(|x| x.command.starts_with("postgres"))
                .count();
            let archivers: Vec<String> = process_lines(p, |x| x.is_pg("archiver"));
            if pg == 0 {
                inv.push(InvariantId::ProcessesNoArchiver, InvariantStatus::Unknown, vec![], format!("{} lists no PostgreSQL process: was ps run inside the PostgreSQL container?", p.origin));
            } else if contract.archive_mode {
                inv.push(
                    InvariantId::ProcessesArchiverRunning,
                    if archivers.is_empty() {
                        InvariantStatus::Fail
                    } else {
                        InvariantStatus::Pass
                    },
                    archivers.clone(),
                    if archivers.is_empty() {
                        "archiving is declared on but no postgres: archiver process runs".into()
                    } else {
                        "the archiver runs".into()
                    },
                );
            } else if archivers.is_empty() {
                inv.push(
                    InvariantId::ProcessesNoArchiver,
                    InvariantStatus::Pass,
                    vec![format!(
                        "{}: {} PostgreSQL processes, none is the archiver",
                        p.origin, pg
                    )],
                    "no postgres: archiver process".into(),
                );
            } else {
                inv.push(
                    InvariantId::ProcessesNoArchiver,
                    InvariantStatus::Fail,
                    archivers.clone(),
                    format!(
                        "WAL archiving is declared disabled, but {} runs",
                        archivers[0]
                    ),
                );
            }
        }
    }
}
