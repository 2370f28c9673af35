//! `psql` output: `pg_settings` rows and `pg_replication_slots` rows.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::wal::{ReplicationSlot, SlotWalStatus};

/// One row of `pg_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeSetting {
    /// `name`.
    pub name: String,
    /// `setting`.
    pub setting: String,
    /// `unit`, if any.
    pub unit: Option<String>,
    /// Where it was read, for evidence (`settings.csv:12`).
    pub at: String,
}

/// Parses `psql -AtF',' -c "select name,setting,unit from pg_settings"` output,
/// or a JSON array of `{name, setting, unit}` objects. A setting containing
/// the separator is kept whole (the unit is the last column).
pub fn parse_pg_settings(text: &str, origin: &str) -> Result<BTreeMap<String, RuntimeSetting>> {
    let mut out = BTreeMap::new();
    if text.trim_start().starts_with('[') {
        let rows: Vec<Value> = serde_json::from_str(text).map_err(|e| Error::json(origin, &e))?;
        for (i, r) in rows.iter().enumerate() {
            let name = r["name"]
                .as_str()
                .ok_or_else(|| Error::input(origin, format!("row {}: no \"name\"", i + 1)))?;
            let setting = match &r["setting"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.insert(
                name.to_string(),
                RuntimeSetting {
                    name: name.to_string(),
                    setting,
                    unit: r["unit"]
                        .as_str()
                        .filter(|u| !u.is_empty())
                        .map(String::from),
                    at: format!("{origin} row {}", i + 1),
                },
            );
        }
        return Ok(out);
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let sep = if line.contains(',') { ',' } else { '|' };
        let (name, rest) = line
            .split_once(sep)
            .ok_or_else(|| Error::input_at(origin, i + 1, "expected name,setting,unit"))?;
        let (setting, unit) = rest.rsplit_once(sep).unwrap_or((rest, ""));
        if name.trim() == "name" && setting.trim() == "setting" {
            continue; // a header row
        }
        out.insert(
            name.trim().to_string(),
            RuntimeSetting {
                name: name.trim().to_string(),
                setting: setting.to_string(),
                unit: Some(unit.trim().to_string()).filter(|u| !u.is_empty()),
                at: format!("{origin}:{}", i + 1),
            },
        );
    }
    if out.is_empty() {
        return Err(Error::input(origin, "no settings found"));
    }
    Ok(out)
}

/// Parses a slot list: a JSON array of slot objects, or the output of
/// `psql -AtF, -c "SELECT slot_name, active, wal_status,
/// pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots"`
/// (`active` as `t`/`f`; empty `wal_status` or byte count for NULL).
/// `origin` names the input in errors.
pub fn parse_slots(text: &str, origin: &str) -> Result<Vec<ReplicationSlot>> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| Error::json(origin, &e));
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |m: String| Error::input_at(origin, i + 1, m);
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != 4 {
            return Err(err(format!(
                "expected 4 columns (slot_name,active,wal_status,retained_bytes), found {}",
                cols.len()
            )));
        }
        let active = match cols[1] {
            "t" | "true" => true,
            "f" | "false" => false,
            other => return Err(err(format!("active must be t or f, found \"{other}\""))),
        };
        let wal_status = match cols[2] {
            "" => None,
            "reserved" => Some(SlotWalStatus::Reserved),
            "extended" => Some(SlotWalStatus::Extended),
            "unreserved" => Some(SlotWalStatus::Unreserved),
            "lost" => Some(SlotWalStatus::Lost),
            other => return Err(err(format!("unknown wal_status \"{other}\""))),
        };
        let retained_bytes = match cols[3] {
            "" => None,
            n => Some(
                n.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| v as u64)
                    .ok_or_else(|| err(format!("retained bytes \"{n}\" is not a number")))?,
            ),
        };
        out.push(ReplicationSlot {
            name: cols[0].to_string(),
            active,
            wal_status,
            retained_bytes,
            safe_wal_size: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_settings_rows_keep_commas_in_values() {
        let t = "max_wal_size,4096,MB\narchive_command,cp %p /a,b/%f,\ncheckpoint_timeout,300,s\n";
        let s = parse_pg_settings(t, "s.csv").unwrap();
        assert_eq!(s["max_wal_size"].unit.as_deref(), Some("MB"));
        assert_eq!(s["archive_command"].setting, "cp %p /a,b/%f");
        assert_eq!(s["archive_command"].unit, None);
        assert_eq!(s["checkpoint_timeout"].at, "s.csv:3");
        let j = parse_pg_settings(
            r#"[{"name":"wal_keep_size","setting":"0","unit":"MB"}]"#,
            "s.json",
        )
        .unwrap();
        assert_eq!(j["wal_keep_size"].setting, "0");
        assert!(parse_pg_settings("garbage\n", "x")
            .unwrap_err()
            .to_string()
            .contains("x: line 1"));
    }
}
