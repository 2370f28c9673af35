//! `wal check`: measure pg_wal, evaluate the WAL status, record it.
//!
//! [`Ssot::check_wal`] gathers what only a probe or a request can tell
//! (slots, the live server) and [`check_wal`] the rest under the state
//! lock (the previous status, the growth history, the scan and the
//! volumes); [`crate::wal::evaluate`] decides; `wal.status`,
//! `wal.history`, `wal.last_check` and `wal.probe` record it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Ports, Ssot};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs;
use crate::request::WalCheckRequest;
use crate::state::{self, StateInput, WalStatusRecord};
use crate::statefile::StateFile;
use crate::wal::{self, ReplicationSlot, WalFacts, WalReport, WalSettings};

/// The outcome of [`crate::Ssot::check_wal`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct WalCheck {
    /// The report, as written to `wal.status`.
    #[serde(flatten)]
    pub report: WalReport,
    /// pg_wal as resolved (through a symlink, if any).
    pub pg_wal: Option<PathBuf>,
    /// Where the declared WAL settings came from.
    pub settings_source: String,
    /// Things an operator should know that did not change the status.
    pub notes: Vec<String>,
    /// What `pg_ls_waldir()` counted, when the server was probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pg_ls_waldir: Option<crate::inputs::WalDir>,
}

impl WalCheck {
    /// True when pg_wal could not be measured.
    pub fn measurement_failed(&self) -> bool {
        self.report.measures.wal_size.is_none()
    }
}

/// Extra facts for [`check_wal`] that the host cannot discover by itself.
#[derive(Debug, Clone, Default)]
pub struct WalCheckInput {
    /// Replication slots (from `pg_replication_slots`), if read.
    pub slots: Vec<ReplicationSlot>,
    /// A live probe of the server, if one was asked for.
    pub live: Option<crate::wal::LiveWalFacts>,
    /// `pg_ls_waldir()` from that probe.
    pub waldir: Option<crate::inputs::WalDir>,
    /// True when the slots were given (a file), not read by the probe.
    pub slots_given: bool,
    /// Why the given slots could not be read, if they could not: the
    /// measurement fails (ERROR, recorded).
    pub slots_error: Option<String>,
}

/// Resolves the declared WAL settings: `wal.settings` if present (written by
/// `ssot contract check` from the source of truth), else the configured contract.
fn declared_settings(ports: &Ports, cfg: &Config) -> Result<(WalSettings, String)> {
    let defaults = cfg.contract.wal_settings();
    let input = ports.state.read(state::WAL_SETTINGS);
    match input.parse() {
        Ok(None) => Ok((defaults, "configuration (contract section)".into())),
        Ok(Some(f)) => {
            let s = state::parse_wal_settings(&f, &defaults)?;
            Ok((s, input.path().to_string()))
        }
        Err(e) => Err(e),
    }
}

/// The other volumes the cluster writes: PGDATA's own and each
/// tablespace's, one per device, leaving out pg_wal's device (its volume is
/// [`WalFacts::volume`]). Any that cannot be measured fails the measurement.
fn watched_volumes(
    ports: &Ports,
    pgdata: &Path,
    pg_wal: &Path,
) -> Result<Vec<crate::wal::WatchedVolume>> {
    let mut seen = vec![ports.volumes.device(pg_wal)?];
    let mut out = Vec::new();
    let mut candidates = vec![(
        "pgdata".to_string(),
        format!("PGDATA {}", pgdata.display()),
        pgdata.to_path_buf(),
    )];
    for (oid, dir) in ports.wal.tablespaces(pgdata)? {
        candidates.push((
            format!("tablespace_{oid}"),
            format!("tablespace {oid} ({})", dir.display()),
            dir,
        ));
    }
    for (key, holds, dir) in candidates {
        let dev = ports.volumes.device(&dir)?;
        if seen.contains(&dev) {
            continue;
        }
        seen.push(dev);
        out.push(crate::wal::WatchedVolume {
            key,
            holds,
            volume: ports.volumes.volume(&dir)?,
        });
    }
    Ok(out)
}

/// Measures pg_wal, evaluates the WAL status and records it.
///
/// Under the state lock: reads the previous `wal.status` (hysteresis) and
/// `wal.history` (growth rate), scans pg_wal and its volume, evaluates, and
/// writes `wal.status`, `wal.history` and — if the measurement succeeded —
/// `wal.last_check`. A failed measurement is recorded as `ERROR`, never skipped.
/// `Err` only when the state directory itself cannot be locked or written.
pub fn check_wal(
    ports: &Ports,
    cfg: &Config,
    pgdata: &Path,
    input: &WalCheckInput,
    now: DateTime<Utc>,
) -> Result<WalCheck> {
    let lock = ports.state.lock()?;
    let mut notes = Vec::new();
    let previous = read_previous(ports, &mut notes);
    let history_input = ports.state.read(state::WAL_HISTORY);
    let history = state::parse_wal_history(&history_input).unwrap_or_else(|e| {
        notes.push(format!(
            "growth history discarded ({e}); growth is judged from new samples"
        ));
        Vec::new()
    });
    let probe = remembered_probe(ports, pgdata, input, now, &mut notes);
    let (report, pg_wal, settings_source) = measure_and_evaluate(
        ports,
        cfg,
        pgdata,
        input,
        Measured {
            live: probe.live,
            slots: probe.slots,
            history: history.clone(),
            previous: previous.status,
        },
        now,
        &mut notes,
    );
    let mut status_file = previous.file;
    // A status that cannot be written as it is (a value the file cannot
    // hold) must not leave the previous one standing: record the failure.
    let report = match state::write_wal_status(&mut status_file, &report) {
        Ok(()) => report,
        Err(e) => {
            let failed = wal::measurement_failed(
                &format!("the status could not be recorded: {e}"),
                &cfg.wal,
                report.measures.soft_limit_bytes,
                now,
            );
            status_file = StateFile::new(previous.path.as_str());
            state::write_wal_status(&mut status_file, &failed)?;
            failed
        }
    };
    let status = status_file.render();
    let history = state::render_wal_history(&wal::next_history(&history, &report, &cfg.wal));
    let checked = format!("{}\n", state::timestamp(now));
    let mut files = vec![
        (state::WAL_STATUS, status.as_bytes()),
        (state::WAL_HISTORY, history.as_bytes()),
    ];
    if report.measures.wal_size.is_some() {
        files.push((state::WAL_LAST_CHECK, checked.as_bytes()));
    }
    if let Some(p) = &probe.record {
        files.push((state::WAL_PROBE, p.as_bytes()));
    }
    ports.state.write_atomic_all(&lock, &files)?;
    if let (Some(d), Some(scanned)) = (input.waldir, report.measures.wal_size) {
        notes.push(format!(
            "pg_ls_waldir() counts {} in {} segment(s); the scan {}",
            crate::num::human_bytes(d.bytes),
            d.segments,
            crate::num::human_bytes(scanned)
        ));
    }
    Ok(WalCheck {
        report,
        pg_wal,
        settings_source,
        notes,
        pg_ls_waldir: input.waldir,
    })
}

/// The previous `wal.status`: its path, its file (rewritten in place, so
/// unknown keys survive) and the status hysteresis starts from.
struct Previous {
    path: String,
    file: StateFile,
    status: Option<wal::PreviousStatus>,
}

fn read_previous(ports: &Ports, notes: &mut Vec<String>) -> Previous {
    let prev_input = ports.state.read(state::WAL_STATUS);
    let mut status_file = StateFile::new(prev_input.path());
    let mut previous = None;
    match prev_input.parse() {
        Ok(Some(f)) => {
            match WalStatusRecord::from_file(&f) {
                Ok(r) => previous = Some(r.previous()),
                Err(e) => notes.push(format!(
                    "previous status not usable ({e}); hysteresis starts afresh"
                )),
            }
            status_file = f;
        }
        Ok(None) => {}
        Err(e) => notes.push(format!(
            "previous {} not usable ({e}); it is rewritten and hysteresis starts afresh",
            prev_input.path()
        )),
    }
    Previous {
        path: prev_input.path().to_string(),
        file: status_file,
        status: previous,
    }
}

/// The live facts as a probe gives them, and what is remembered of it.
struct Probe {
    live: Option<wal::LiveWalFacts>,
    slots: Vec<ReplicationSlot>,
    /// `wal.probe`'s new content, when the server answered.
    record: Option<String>,
}

/// A probe that answered is remembered; one that did not is described by
/// the last that did (its slots, dated), so the slot that filled the disk
/// is still named after the server went down.
fn remembered_probe(
    ports: &Ports,
    pgdata: &Path,
    input: &WalCheckInput,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> Probe {
    let mut live = input.live.clone();
    let mut slots = input.slots.clone();
    let mut probe_record = None;
    match live.as_mut() {
        // Slots given as a file are not the server's: nothing is remembered.
        Some(l) if l.unreachable.is_none() && !input.slots_given => {
            let last = wal::LastProbe {
                probed_at: now,
                server: l.server.clone(),
                pgdata: Some(pgdata.display().to_string()),
                slots: input.slots.clone(),
                archiver: l.archiver.clone(),
            };
            probe_record = serde_json::to_string(&last).ok().map(|t| t + "\n");
        }
        Some(l) if l.unreachable.is_some() => {
            let saved = ports.state.read(state::WAL_PROBE);
            match &saved {
                StateInput::Missing { .. } | StateInput::Present { .. } => {}
                other => notes.push(format!(
                    "{} is not usable ({}): no earlier slots or archiver are shown",
                    other.path(),
                    match other {
                        StateInput::Unreadable { error, .. } => error.to_string(),
                        StateInput::Invalid { problem, .. } => problem.to_string(),
                        _ => String::new(),
                    }
                )),
            }
            if let StateInput::Present { content, .. } = &saved {
                let this_pgdata = pgdata.display().to_string();
                match serde_json::from_slice::<wal::LastProbe>(content) {
                    Ok(last)
                        if last.server == l.server
                            && last.probed_at <= now
                            && last.pgdata.as_deref().is_none_or(|p| p == this_pgdata) =>
                    {
                        if !input.slots_given {
                            slots = last.slots;
                            l.slots_seen_at = Some(last.probed_at);
                        }
                        if l.archiver.is_none() && last.archiver.is_some() {
                            l.archiver = last.archiver;
                            l.archiver_seen_at = Some(last.probed_at);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => notes.push(format!(
                        "{} is not usable ({e}): no earlier slots or archiver are shown",
                        saved.path()
                    )),
                }
            }
        }
        _ => {}
    }
    Probe {
        live,
        slots,
        record: probe_record,
    }
}

/// The facts [`measure_and_evaluate`] adds the scan to.
struct Measured {
    live: Option<wal::LiveWalFacts>,
    slots: Vec<ReplicationSlot>,
    history: Vec<wal::WalSample>,
    previous: Option<wal::PreviousStatus>,
}

/// Scans pg_wal and the volumes and evaluates: the report, pg_wal as
/// resolved and where the declared settings came from. A measurement that
/// fails is an `ERROR` report.
fn measure_and_evaluate(
    ports: &Ports,
    cfg: &Config,
    pgdata: &Path,
    input: &WalCheckInput,
    known: Measured,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> (WalReport, Option<PathBuf>, String) {
    let slots_error = input.slots_error.clone();
    let measured = declared_settings(ports, cfg).and_then(|(settings, source)| {
        if let Some(e) = slots_error {
            return Err(Error::Request(format!(
                "the replication slots given could not be read: {e}"
            )));
        }
        let scan = ports.wal.scan(pgdata)?;
        let volume = ports.volumes.volume(&scan.dir)?;
        let volumes = watched_volumes(ports, pgdata, &scan.dir)?;
        Ok((settings, source, scan, volume, volumes))
    });
    match measured {
        Ok((mut settings, source, scan, volume, volumes)) => {
            if let Some(l) = known.live.as_ref().filter(|l| l.unreachable.is_none()) {
                if let Some(rt) = l
                    .wal_segment_size
                    .filter(|rt| *rt != settings.wal_segment_size.bytes())
                {
                    notes.push(format!(
                        "the server's wal_segment_size is {}, the declared one {} ({source}): the server's is used; fix the declaration",
                        crate::num::human_bytes(rt),
                        settings.wal_segment_size
                    ));
                    settings.wal_segment_size = crate::units::ByteSize::from_bytes(rt);
                }
                if l.in_recovery {
                    notes.push(format!(
                        "{} is a standby (pg_is_in_recovery()): not the single instance the contract declares; its pg_wal follows the primary's",
                        l.server
                    ));
                }
            }
            if scan.vanished > 0 {
                notes.push(format!(
                    "{} file(s) vanished during the scan (recycled by a checkpoint) and were skipped",
                    scan.vanished
                ));
            }
            let facts = WalFacts {
                wal_bytes: scan.wal_bytes,
                segment_count: scan.segment_count,
                ready_count: scan.ready_count,
                volume,
                volumes,
                settings,
                slots: known.slots,
                history: known.history,
                previous: known.previous,
                live: known.live,
            };
            (wal::evaluate(&facts, &cfg.wal, now), Some(scan.dir), source)
        }
        Err(e) => (
            wal::measurement_failed(
                &e.to_string(),
                &cfg.wal,
                cfg.contract.wal_settings().soft_limit(),
                now,
            ),
            None,
            "unknown".into(),
        ),
    }
}

impl Ssot {
    /// Measures pg_wal, evaluates the WAL status and records it (`wal.status`,
    /// `wal.history`, `wal.last_check`). A failed measurement is an `ERROR`
    /// result, not an `Err`; `Err` means the state directory could not be
    /// locked or written (slots that cannot be read fail the measurement).
    pub fn check_wal(&self, req: &WalCheckRequest, now: DateTime<Utc>) -> Result<WalCheck> {
        let mut input = WalCheckInput::default();
        if let Some(i) = &req.slots {
            // Slots that cannot be read are a failed measurement (recorded,
            // ERROR), never a reason to leave the previous status standing.
            match self
                .read(i)
                .and_then(|(text, origin)| inputs::parse_slots(&text, &origin))
            {
                Ok(slots) => input.slots = slots,
                Err(e) => input.slots_error = Some(e.to_string()),
            }
            input.slots_given = true;
        }
        if let Some(dsn) = self.dsn(req.dsn.as_deref()) {
            let (server, probed) = self.probe(dsn);
            input.live = Some(match probed {
                Ok(l) => {
                    if req.slots.is_none() {
                        input.slots = l.slots.clone();
                    }
                    input.waldir = Some(l.waldir);
                    crate::wal::LiveWalFacts {
                        server,
                        unreachable: None,
                        archiver: Some(l.archiver),
                        slots_seen_at: None,
                        archiver_seen_at: None,
                        in_recovery: l.in_recovery,
                        wal_segment_size: l
                            .settings
                            .get("wal_segment_size")
                            .and_then(|r| {
                                crate::contract::guc::parse_setting_row(
                                    "wal_segment_size",
                                    &r.setting,
                                    r.unit.as_deref(),
                                )
                                .ok()
                            })
                            .and_then(|v| v.bytes()),
                    }
                }
                Err(why) => crate::wal::LiveWalFacts {
                    server,
                    unreachable: Some(why),
                    archiver: None,
                    slots_seen_at: None,
                    archiver_seen_at: None,
                    in_recovery: false,
                    wal_segment_size: None,
                },
            });
        }
        let pgdata = self.pgdata(req.pgdata.as_deref());
        check_wal(&self.ports, &self.config, &pgdata, &input, now)
    }
}
