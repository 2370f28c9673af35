//! The pure halves of two operations, for callers that hold the texts
//! rather than files: the conformance vectors and the bindings run them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, ContractConfig};
use crate::contract::{ContractInputs, Sourced};
use crate::error::{Error, Result};
use crate::inputs;
use crate::report::{self, Report, ReportFacts};
use crate::request::{ContractRequest, Input};
use crate::state::{self, StateInput};

/// Parses the contract inputs of `req`, each given as text (a path is an
/// error here: reading is [`crate::Ssot::check_contract`]'s job). Every
/// parse error names the input's origin.
pub fn parse_contract_inputs(
    req: &ContractRequest,
    cfg: &ContractConfig,
) -> Result<ContractInputs> {
    let text = |field: &'static str, i: &Option<Input>| -> Result<Option<(String, String)>> {
        match i {
            None => Ok(None),
            Some(Input::Text(t)) => Ok(Some((t.text.clone(), t.origin.clone()))),
            Some(Input::Path(p)) => Err(Error::Request(format!(
                "{field}: {} must be read first; give its text",
                p.display()
            ))),
        }
    };
    let mut c = ContractInputs::default();
    if let Some((t, o)) = text("statefulset", &req.statefulset)? {
        let v = inputs::parse_statefulset(&t, &o, &cfg.statefulset)?;
        c.statefulset = Some(Sourced::new(v, o));
    }
    if let Some((t, o)) = text("settings", &req.settings)? {
        c.settings = Some(Sourced::new(inputs::parse_pg_settings(&t, &o)?, o));
    }
    if let Some((t, o)) = text("processes", &req.processes)? {
        let p = inputs::parse_processes(&t);
        // A process list is never empty (ps sees at least the postmaster,
        // or itself): an empty one is an input that was not read, such as a
        // FIFO nobody wrote to, and must not confirm anything "off".
        if p.is_empty() {
            return Err(Error::input(
                o,
                "holds no process line: a process list is never empty (give `ps -eo args` from where PostgreSQL runs)",
            ));
        }
        c.processes = Some(Sourced::new(p, o));
    }
    if let Some((t, o)) = text("pvcs", &req.pvcs)? {
        c.pvcs = Some(Sourced::new(inputs::parse_pvcs(&t, &o)?, o));
    }
    if let Some((t, o)) = text("active_pvcs", &req.active_pvcs)? {
        c.active_pvcs = Some(Sourced::new(inputs::parse_active_pvcs(&t), o));
    }
    if let Some((t, o)) = text("auto_conf", &req.auto_conf)? {
        c.auto_conf = Some(Sourced::new(inputs::parse_auto_conf(&t, &o)?, o));
    }
    if let Some((t, o)) = text("slots", &req.slots)? {
        c.slots = Some(Sourced::new(inputs::parse_slots(&t, &o)?, o));
    }
    if let Some((t, o)) = text("mounts", &req.mounts)? {
        let m = inputs::parse_mounts(&t);
        if m.is_empty() {
            return Err(Error::input(
                o,
                "holds no mount line: /proc/mounts is never empty",
            ));
        }
        c.mounts = Some(Sourced::new(m, o));
    }
    if let Some((t, o)) = text("postgresql_conf", &req.postgresql_conf)? {
        c.conf = Some(Sourced::new(inputs::parse_postgresql_conf(&t, &o)?, o));
    }
    c.pgdata = req.pgdata.as_ref().map(|p| p.display().to_string());
    Ok(c)
}

/// The single view of truth over state files given as `name → content`
/// (each shown under its name) and `gate.log`'s content, with no disk
/// facts (no target is probed) and no `file:` criteria checked.
pub fn report_from_files(
    files: &BTreeMap<String, String>,
    gate_log: Option<&str>,
    config: &Config,
    now: DateTime<Utc>,
) -> Report {
    let present = |name: &str, content: &str| StateInput::Present {
        path: name.to_string(),
        content: content.as_bytes().to_vec(),
    };
    let facts = ReportFacts {
        files: files
            .iter()
            .map(|(n, c)| (n.clone(), present(n, c)))
            .collect(),
        gate_log: gate_log.map(|g| present(state::GATE_LOG, g)),
        gate_log_truncated: false,
        disks: Vec::new(),
        files_exist: BTreeMap::new(),
        live: None,
    };
    report::build(&facts, &config.report_policy(), now)
}
