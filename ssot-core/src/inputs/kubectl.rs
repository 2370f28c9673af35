//! `kubectl get sts NAME -o json`, `kubectl get pvc -o json` and `active_pvc.list`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::argv::{postgres_invocations, settings_from_argv, ArgSetting};
use crate::error::{Error, Result};

/// `spec.replicas` as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replicas {
    /// A JSON integer ≥ 0 (absent: Kubernetes' default, 1).
    Count(u64),
    /// Anything else (`2.0`, `"3"`, `-1`): what it was, as JSON.
    Invalid(String),
}

impl std::fmt::Display for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replicas::Count(n) => write!(f, "{n}"),
            Replicas::Invalid(v) => f.write_str(v),
        }
    }
}

/// How many PVC names of a volumeClaimTemplate are listed (one per replica
/// ordinal); more are counted, never allocated.
pub const PVC_NAMES_LISTED: u64 = 16;

/// What the contract needs from `kubectl get sts NAME -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatefulSetFacts {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.replicas` (Kubernetes defaults it to 1).
    pub replicas: Replicas,
    /// The PostgreSQL container's name.
    pub container: String,
    /// Settings from PostgreSQL's own arguments; the last occurrence of a name wins.
    pub settings: BTreeMap<String, ArgSetting>,
    /// PGDATA inside the container.
    pub pgdata: String,
    /// The PVC(s) holding PGDATA, one per replica ordinal, at most
    /// [`PVC_NAMES_LISTED`]; empty if PGDATA is not on a PVC.
    pub pgdata_pvcs: Vec<String>,
    /// Replica ordinals beyond [`PVC_NAMES_LISTED`] whose PVC names were not listed.
    pub pgdata_pvcs_not_listed: u64,
    /// How PGDATA's volume was found, for evidence.
    pub pgdata_volume: String,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The StatefulSet in `doc`: the document itself, or the one named
/// `want_name` in a List (the only one when the List holds one).
fn pick_statefulset<'a>(doc: &'a Value, origin: &str, want_name: &str) -> Result<&'a Value> {
    match doc["kind"].as_str() {
        Some("StatefulSet") => Ok(doc),
        Some("List") | Some("StatefulSetList") => {
            let items = doc["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            items
                .iter()
                .find(|i| i["metadata"]["name"] == want_name)
                .or_else(|| (items.len() == 1).then(|| &items[0]))
                .ok_or_else(|| {
                    Error::input(
                        origin,
                        format!("no StatefulSet named {want_name} in the list"),
                    )
                })
        }
        Some(other) => Err(Error::input(
            origin,
            format!("kind is \"{other}\", expected StatefulSet (kubectl get sts NAME -o json)"),
        )),
        None => Err(Error::input(
            origin,
            "has no \"kind\": expected a StatefulSet (kubectl get sts NAME -o json)",
        )),
    }
}

/// The PVCs behind the volumeMount holding PGDATA, how that volume was
/// found, and how many PVC names were left out of the list.
fn pgdata_claims(
    sts: &Value,
    pod: &Value,
    name: &str,
    replicas: &Replicas,
    mount: Option<(&str, &str)>,
    pgdata: &str,
) -> (Vec<String>, String, u64) {
    let mut not_listed = 0;
    let (pvcs, volume) = match mount {
        None => (Vec::new(), format!("no volumeMount holds PGDATA {pgdata}")),
        Some((vol, path)) => {
            let templates = sts["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten();
            if templates.clone().any(|t| t["metadata"]["name"] == vol) {
                // One PVC per replica ordinal; an invalid count still has ordinal 0.
                let n = match *replicas {
                    Replicas::Count(n) => n.max(1),
                    Replicas::Invalid(_) => 1,
                };
                not_listed = n.saturating_sub(PVC_NAMES_LISTED);
                (
                    (0..n.min(PVC_NAMES_LISTED))
                        .map(|i| format!("{vol}-{name}-{i}"))
                        .collect(),
                    format!("volumeMount {vol} at {path} from volumeClaimTemplate {vol}"),
                )
            } else {
                let claim = pod["volumes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["name"] == vol)
                    .and_then(|v| v["persistentVolumeClaim"]["claimName"].as_str());
                match claim {
                    Some(c) => (
                        vec![c.to_string()],
                        format!("volumeMount {vol} at {path} from persistentVolumeClaim {c}"),
                    ),
                    None => (
                        Vec::new(),
                        format!("volumeMount {vol} at {path} is not a PersistentVolumeClaim"),
                    ),
                }
            }
        }
    };
    (pvcs, volume, not_listed)
}

/// Parses `kubectl get sts NAME -o json` (or a List holding StatefulSets; then
/// `want_name` picks one).
pub fn parse_statefulset(text: &str, origin: &str, want_name: &str) -> Result<StatefulSetFacts> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::json(origin, &e))?;
    let sts = pick_statefulset(&doc, origin, want_name)?;
    let name = sts["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let namespace = sts["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let replicas = match &sts["spec"]["replicas"] {
        Value::Null => Replicas::Count(1),
        Value::Number(n) if n.is_u64() => Replicas::Count(n.as_u64().unwrap_or(1)),
        other => Replicas::Invalid(other.to_string()),
    };
    let pod = &sts["spec"]["template"]["spec"];
    let containers = pod["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let is_pg = |c: &&Value| {
        let n = c["name"].as_str().unwrap_or("");
        let img = c["image"].as_str().unwrap_or("");
        let mut argv = strings(&c["command"]);
        argv.extend(strings(&c["args"]));
        ["postgres", "postgresql", "database", "db"].contains(&n)
            || img.contains("postgres")
            || !postgres_invocations(&argv).is_empty()
    };
    let c = containers.iter().find(is_pg).ok_or_else(|| {
        Error::input(
            origin,
            "spec.template.spec.containers has no PostgreSQL container",
        )
    })?;
    let mut argv = strings(&c["command"]);
    argv.extend(strings(&c["args"]));
    let settings = settings_from_argv(&argv);
    let pgdata_from_args = postgres_invocations(&argv)
        .iter()
        .rev()
        .find_map(|inv| inv.windows(2).find(|w| w[0] == "-D").map(|w| w[1].clone()));
    let pgdata = c["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == "PGDATA"))
        .and_then(|e| e["value"].as_str().map(String::from))
        .or(pgdata_from_args)
        .unwrap_or_else(|| "/var/lib/postgresql/data".into());
    let mount = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?, m["mountPath"].as_str()?)))
        .filter(|(_, p)| {
            pgdata == *p || pgdata.starts_with(&format!("{}/", p.trim_end_matches('/')))
        })
        .max_by_key(|(_, p)| p.len());
    let (pgdata_pvcs, pgdata_volume, not_listed) =
        pgdata_claims(sts, pod, &name, &replicas, mount, &pgdata);
    Ok(StatefulSetFacts {
        name,
        namespace,
        replicas,
        container: c["name"].as_str().unwrap_or("").to_string(),
        settings,
        pgdata,
        pgdata_pvcs,
        pgdata_pvcs_not_listed: not_listed,
        pgdata_volume,
    })
}

/// A PersistentVolumeClaim from `kubectl get pvc -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pvc {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `status.phase`.
    pub phase: String,
}

/// Parses `kubectl get pvc -o json` (a list or a single claim).
pub fn parse_pvcs(text: &str, origin: &str) -> Result<Vec<Pvc>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::json(origin, &e))?;
    let items: Vec<&Value> =
        match doc["kind"].as_str() {
            Some("PersistentVolumeClaim") => vec![&doc],
            Some("List") | Some("PersistentVolumeClaimList") => doc["items"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            Some(other) => {
                return Err(Error::input(
                    origin,
                    format!(
                "kind is \"{other}\", expected PersistentVolumeClaimList (kubectl get pvc -o json)"
            ),
                ))
            }
            None => return Err(Error::input(
                origin,
                "has no \"kind\": expected a PersistentVolumeClaimList (kubectl get pvc -o json)",
            )),
        };
    Ok(items
        .iter()
        .map(|p| Pvc {
            name: p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            namespace: p["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string(),
            phase: p["status"]["phase"].as_str().unwrap_or("").to_string(),
        })
        .collect())
}

/// Parses `active_pvc.list`: one PVC a line (`name` or `namespace/name`), `#` comments.
pub fn parse_active_pvcs(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// True when `list` names the claim (`name` or `namespace/name`).
pub fn listed(list: &[String], pvc_name: &str, namespace: &str) -> bool {
    list.iter()
        .any(|e| e == pvc_name || *e == format!("{namespace}/{pvc_name}"))
}
