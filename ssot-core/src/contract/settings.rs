//! The WAL settings: declared by the contract, passed as StatefulSet
//! arguments (the source of truth, seed STAGE 6), seen at runtime
//! (`pg_settings`; a difference is drift), and overridden by `ALTER SYSTEM`.

use std::collections::BTreeMap;

use super::guc::{self, GucValue};
use super::{ContractConfig, ContractInputs, Inv, InvariantId, InvariantStatus};
use crate::inputs::{PostgresqlConf, StatefulSetFacts};

/// Where the declared settings are read from: the StatefulSet's args
/// (Kubernetes, seed STAGE 6) or the configuration files PostgreSQL reads
/// (a host); `None` inside when that input was not given.
pub(super) enum Source<'a> {
    Sts(Option<&'a super::Sourced<StatefulSetFacts>>),
    Conf(Option<&'a super::Sourced<PostgresqlConf>>),
}

/// One declared setting.
struct Declaration {
    value: String,
    label: String,
    evidence: String,
}

impl Source<'_> {
    /// The invariant of `setting` in this source: `sts.<name>` or `conf.<name>`.
    fn id(&self, setting: &Setting) -> InvariantId {
        match self {
            Source::Sts(_) => setting.sts,
            Source::Conf(_) => setting.conf,
        }
    }

    /// The input that was not given, for an unknown invariant.
    fn input(&self) -> &'static str {
        match self {
            Source::Sts(_) => "statefulset",
            Source::Conf(_) => "postgresql_conf",
        }
    }

    fn given(&self) -> bool {
        match self {
            Source::Sts(s) => s.is_some(),
            Source::Conf(c) => c.is_some(),
        }
    }

    /// What the source is called in messages.
    pub(super) fn what(&self) -> &'static str {
        match self {
            Source::Sts(_) => "the StatefulSet args",
            Source::Conf(_) => "postgresql.conf and its includes",
        }
    }

    /// The value `name` is set to, the declaration itself (`-c x=y`, or
    /// `file:line x = 'y'`) and the evidence naming where.
    fn get(&self, name: &str) -> Option<Declaration> {
        match self {
            Source::Sts(s) => s.and_then(|s| {
                s.value.settings.get(name).map(|a| Declaration {
                    value: a.value.clone(),
                    label: a.arg.clone(),
                    evidence: format!("{} ({})", a.arg, s.origin),
                })
            }),
            Source::Conf(c) => c.and_then(|c| {
                c.value.settings.get(name).map(|l| {
                    let label = format!("{} {name} = '{}'", l.at(), l.value);
                    Declaration {
                        value: l.value.clone(),
                        evidence: label.clone(),
                        label,
                    }
                })
            }),
        }
    }

    /// Evidence that `name` is not set; `in_container` names the container.
    fn absent(&self, name: &str, in_container: bool) -> String {
        match self {
            Source::Sts(Some(s)) if in_container => format!(
                "no {name} argument in container {} of {}",
                s.value.container, s.origin
            ),
            Source::Sts(Some(s)) => format!("no {name} argument in {}", s.origin),
            Source::Conf(Some(c)) => {
                format!("no {name} line in {}", c.value.files.join(", "))
            }
            _ => String::new(),
        }
    }

    /// Who sets a value, in a disagreement.
    fn setter(&self) -> &'static str {
        match self {
            Source::Sts(_) => "the StatefulSet",
            Source::Conf(_) => "the configuration",
        }
    }

    /// What one declaration is called: an argument or a setting.
    fn item(&self) -> &'static str {
        match self {
            Source::Sts(_) => "argument",
            Source::Conf(_) => "setting",
        }
    }
}

/// What the StatefulSet's arguments declare, per setting: the value and the argument.
pub(super) type Truth = BTreeMap<&'static str, (GucValue, String)>;

/// A WAL setting the contract declares, with its invariants: in the
/// StatefulSet args (`sts.<name>`), in the configuration files
/// (`conf.<name>`) and at runtime (`runtime.<name>`).
struct Setting {
    name: &'static str,
    sts: InvariantId,
    conf: InvariantId,
    runtime: InvariantId,
    /// The declared value, as the contract configuration gives it.
    declared: fn(&ContractConfig) -> String,
    /// Whether it must appear in the StatefulSet args (seed STAGE 6 lists
    /// the first three).
    required: bool,
}

/// The WAL settings the contract declares.
const SETTINGS: [Setting; 4] = [
    Setting {
        name: "max_wal_size",
        sts: InvariantId::StsMaxWalSize,
        conf: InvariantId::ConfMaxWalSize,
        runtime: InvariantId::RuntimeMaxWalSize,
        declared: |c| c.max_wal_size.to_string(),
        required: true,
    },
    Setting {
        name: "min_wal_size",
        sts: InvariantId::StsMinWalSize,
        conf: InvariantId::ConfMinWalSize,
        runtime: InvariantId::RuntimeMinWalSize,
        declared: |c| c.min_wal_size.to_string(),
        required: true,
    },
    Setting {
        name: "wal_keep_size",
        sts: InvariantId::StsWalKeepSize,
        conf: InvariantId::ConfWalKeepSize,
        runtime: InvariantId::RuntimeWalKeepSize,
        declared: |c| c.wal_keep_size.to_string(),
        required: true,
    },
    Setting {
        name: "checkpoint_timeout",
        sts: InvariantId::StsCheckpointTimeout,
        conf: InvariantId::ConfCheckpointTimeout,
        runtime: InvariantId::RuntimeCheckpointTimeout,
        declared: |c| c.checkpoint_timeout.to_string(),
        required: false,
    },
];

/// The WAL settings the contract declares, as PostgreSQL reads them: each
/// setting with its value or why PostgreSQL would refuse it.
fn declared_values(
    c: &ContractConfig,
) -> Vec<(
    &'static Setting,
    std::result::Result<GucValue, guc::GucError>,
)> {
    SETTINGS
        .iter()
        .map(|s| (s, guc::parse_value(s.name, &(s.declared)(c))))
        .collect()
}

/// PostgreSQL's built-in defaults for the settings above.
fn pg_default(name: &str) -> Option<GucValue> {
    let int = |value, unit| Some(GucValue::Int { value, unit });
    match name {
        "max_wal_size" => int(1024, guc::GucUnit::Mb),
        "min_wal_size" => int(80, guc::GucUnit::Mb),
        "wal_keep_size" => int(0, guc::GucUnit::Mb),
        "checkpoint_timeout" => int(300, guc::GucUnit::S),
        "archive_mode" => Some(GucValue::Enum("off".into())),
        _ => None,
    }
}

/// `sts.<setting>` (or `conf.<setting>` on a host): each declared WAL
/// setting is in the source of truth with the declared value; returns what
/// the source says (the truth).
pub(super) fn declared(inv: &mut Inv, source: &Source<'_>, contract: &ContractConfig) -> Truth {
    let mut truth: BTreeMap<&str, (GucValue, String)> = BTreeMap::new();
    for (setting, declared) in declared_values(contract) {
        let (name, required, id) = (setting.name, setting.required, source.id(setting));
        let declared = match declared {
            Ok(d) => d,
            Err(e) => {
                inv.push(
                    id,
                    InvariantStatus::Fail,
                    vec![format!("contract.{name}")],
                    format!("the contract declares a value PostgreSQL refuses: {e}"),
                );
                continue;
            }
        };
        if !source.given() {
            inv.unknown(id, source.input());
            continue;
        }
        match source.get(name) {
            Some(Declaration {
                value,
                label,
                evidence,
            }) => match guc::parse_value(name, &value) {
                Ok(v) if v == declared => {
                    truth.insert(name, (v, label));
                    inv.push(
                        id,
                        InvariantStatus::Pass,
                        vec![evidence],
                        format!("{name} = {declared} as declared"),
                    );
                }
                Ok(v) => {
                    truth.insert(name, (v.clone(), label));
                    inv.push(
                        id,
                        InvariantStatus::Fail,
                        vec![evidence],
                        format!(
                            "{} sets {name} = {v}, the contract declares {declared}",
                            source.setter()
                        ),
                    );
                }
                Err(e) => inv.push(
                    id,
                    InvariantStatus::Fail,
                    vec![evidence],
                    format!(
                        "PostgreSQL refuses this {} and will not start: {e}",
                        source.item()
                    ),
                ),
            },
            None if !required && pg_default(name).as_ref() == Some(&declared) => {
                truth.insert(
                    name,
                    (
                        declared.clone(),
                        format!("PostgreSQL default {name} = {declared}"),
                    ),
                );
                inv.push(
                    id,
                    InvariantStatus::Pass,
                    vec![source.absent(name, false)],
                    format!("not set; PostgreSQL's default {declared} equals the contract"),
                );
            }
            None => {
                if let Some(d) = pg_default(name) {
                    truth.insert(
                        name,
                        (d, format!("PostgreSQL default (not in {})", source.what())),
                    );
                }
                inv.push(
                    id,
                    InvariantStatus::Fail,
                    vec![source.absent(name, true)],
                    format!("{name} is not set in {what}; the contract declares {declared} and {what} are its only source of truth", what = source.what()),
                );
            }
        }
    }

    truth
}

/// `runtime.<setting>`: the runtime value equals the truth (drift fails).
pub(super) fn runtime(
    inv: &mut Inv,
    inputs: &ContractInputs,
    contract: &ContractConfig,
    truth: &Truth,
) {
    let runtime = inputs.settings.as_ref();
    // Drift: runtime values against the truth (or, without a StatefulSet, the declaration).
    let mut names: Vec<(&str, InvariantId, GucValue, String)> = declared_values(contract)
        .into_iter()
        .filter_map(|(s, d)| match (truth.get(s.name), d) {
            (Some((v, arg)), _) => Some((s.name, s.runtime, v.clone(), arg.clone())),
            (None, Ok(d)) => Some((
                s.name,
                s.runtime,
                d.clone(),
                format!("the contract's {} = {d}", s.name),
            )),
            (None, Err(_)) => None, // reported by sts.<name>
        })
        .collect();
    names.push((
        "archive_mode",
        InvariantId::RuntimeArchiveMode,
        GucValue::Enum(if contract.archive_mode { "on" } else { "off" }.into()),
        "the contract's archive_mode".into(),
    ));
    for (name, id, want, source) in names {
        let Some(rt) = runtime else {
            inv.unknown(id, "settings");
            continue;
        };
        let Some(row) = rt.value.get(name) else {
            inv.push(
                id,
                InvariantStatus::Unknown,
                vec![],
                format!("{} has no {name} row", rt.origin),
            );
            continue;
        };
        let unit = row.unit.as_deref();
        let row_ev = format!(
            "pg_settings {name} = {}{} ({})",
            row.setting,
            unit.map(|u| format!(" {u}")).unwrap_or_default(),
            row.at
        );
        let got = match guc::parse_setting_row(name, &row.setting, unit) {
            Ok(v) => v,
            Err(e) => {
                inv.push(
                    id,
                    InvariantStatus::Fail,
                    vec![row_ev],
                    format!("cannot parse: {e}"),
                );
                continue;
            }
        };
        // archive_mode "always" still means archiving is on.
        let same =
            got == want || (name == "archive_mode" && want.is_word("on") && got.is_word("always"));
        if same {
            inv.push(
                id,
                InvariantStatus::Pass,
                vec![row_ev, source],
                format!("runtime {name} = {got} matches"),
            );
        } else {
            let mut evidence = vec![row_ev, source.clone()];
            let mut hint = String::new();
            if let Some(ac) = &inputs.auto_conf {
                if let Some(l) = ac.value.get(name) {
                    evidence.push(format!("{}:{} {name} = {}", ac.origin, l.line, l.value));
                    hint = format!(
                        "; postgresql.auto.conf sets it to {} (ALTER SYSTEM)",
                        l.value
                    );
                }
            }
            inv.push(
                id,
                InvariantStatus::Fail,
                evidence,
                format!("drift: runtime {name} = {got}, but {source} says {want}{hint}"),
            );
        }
    }
}

/// `auto_conf.no_wal_override`: no `ALTER SYSTEM` override of a contract setting.
pub(super) fn auto_conf(inv: &mut Inv, inputs: &ContractInputs, source: &Source<'_>) {
    // ALTER SYSTEM overrides of contract settings.
    match &inputs.auto_conf {
        None => inv.unknown(InvariantId::AutoConfNoWalOverride, "auto_conf"),
        Some(ac) => {
            let watched = [
                "max_wal_size",
                "min_wal_size",
                "wal_keep_size",
                "checkpoint_timeout",
                "archive_mode",
                "archive_command",
                "archive_timeout",
            ];
            let hits: Vec<String> = watched
                .iter()
                .filter_map(|n| {
                    ac.value
                        .get(*n)
                        .map(|l| format!("{}:{} {n} = {}", ac.origin, l.line, l.value))
                })
                .collect();
            if hits.is_empty() {
                inv.push(
                    InvariantId::AutoConfNoWalOverride,
                    InvariantStatus::Pass,
                    vec![format!("{}: no WAL or archive setting", ac.origin)],
                    "no ALTER SYSTEM override of a contract setting".into(),
                );
            } else {
                inv.push(
                    InvariantId::AutoConfNoWalOverride,
                    InvariantStatus::Fail,
                    hits.clone(),
                    format!(
                        "ALTER SYSTEM overrides what only {} may set: {}",
                        source.what(),
                        hits.join("; ")
                    ),
                );
            }
        }
    }
}

/// The WAL settings the source of truth declares, for `wal.settings`.
pub(super) fn declared_wal(source: &Source<'_>) -> Option<BTreeMap<String, String>> {
    let origin = match source {
        Source::Sts(s) => s.map(|s| s.origin.clone()),
        Source::Conf(c) => c.map(|c| c.origin.clone()),
    }?;
    let mut m = BTreeMap::new();
    for name in [
        "max_wal_size",
        "min_wal_size",
        "wal_keep_size",
        "checkpoint_timeout",
        "max_slot_wal_keep_size",
    ] {
        if let Some(d) = source.get(name) {
            if let Ok(v) = guc::parse_value(name, &d.value) {
                m.insert(name.to_string(), v.to_string());
            }
        }
    }
    let archive = source
        .get("archive_mode")
        .and_then(|d| guc::parse_value("archive_mode", &d.value).ok())
        .is_some_and(|v| v.is_word("on") || v.is_word("always"));
    m.insert(
        "archive_mode".into(),
        if archive { "on" } else { "off" }.into(),
    );
    m.insert("source".into(), origin);
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each declared setting's invariants are named after it, as
    /// `contract.status` and the JSON have always named them.
    #[test]
    fn each_settings_invariants_are_named_after_it() {
        for s in &SETTINGS {
            assert_eq!(s.sts.as_str(), format!("sts.{}", s.name));
            assert_eq!(s.conf.as_str(), format!("conf.{}", s.name));
            assert_eq!(s.runtime.as_str(), format!("runtime.{}", s.name));
        }
        assert_eq!(InvariantId::RuntimeArchiveMode, "runtime.archive_mode");
    }
}
