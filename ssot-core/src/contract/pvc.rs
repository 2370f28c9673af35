//! Instances and claims: one PostgreSQL instance (STAGE 9 frozen), PGDATA on
//! a PVC listed in `active_pvc.list`, no orphan PVCs (STAGE 3.4).

use super::{ContractInputs, Inv, InvariantId, InvariantStatus};
use crate::inputs::{self, Replicas, StatefulSetFacts};

/// `sts.single_instance`: `spec.replicas` is a whole number ≤ 1.
pub(super) fn single_instance(inv: &mut Inv, sts: Option<&super::Sourced<StatefulSetFacts>>) {
    match sts {
        None => inv.unknown(InvariantId::StsSingleInstance, "statefulset"),
        Some(s) => {
            let evidence = vec![format!(
                "spec.replicas = {} ({})",
                s.value.replicas, s.origin
            )];
            let (status, message) = match &s.value.replicas {
                Replicas::Count(n) if *n <= 1 => {
                    (InvariantStatus::Pass, "a single PostgreSQL instance".to_string())
                }
                Replicas::Count(n) => (
                    InvariantStatus::Fail,
                    format!("{n} replicas: more than one instance contradicts the single-instance architecture (STAGE 9 frozen)"),
                ),
                Replicas::Invalid(v) => (
                    InvariantStatus::Fail,
                    format!("spec.replicas is {v}, not a whole number ≥ 0: the instance count cannot be trusted"),
                ),
            };
            inv.push(InvariantId::StsSingleInstance, status, evidence, message);
        }
    }
}

/// `pvc.pgdata_on_pvc`, `pvc.pgdata_active`, `pvc.no_orphans`, `pvc.active_list_current`.
pub(super) fn claims(inv: &mut Inv, inputs: &ContractInputs) {
    // PVCs (seed: PGDATA only on PVCs in active_pvc.list; STAGE 3.4 orphan PVCs).
    pgdata_on_pvc(inv, inputs);
    pgdata_active(inv, inputs);
    orphans_and_stale_entries(inv, inputs);
}

/// `pvc.pgdata_on_pvc`: PGDATA's volumeMount is a PersistentVolumeClaim.
fn pgdata_on_pvc(inv: &mut Inv, inputs: &ContractInputs) {
    let sts = inputs.statefulset.as_ref();
    match sts {
        None => inv.unknown(InvariantId::PvcPgdataOnPvc, "statefulset"),
        Some(s) => inv.push(
            InvariantId::PvcPgdataOnPvc,
            if s.value.pgdata_pvcs.is_empty() {
                InvariantStatus::Fail
            } else {
                InvariantStatus::Pass
            },
            vec![format!(
                "PGDATA {}: {} ({})",
                s.value.pgdata, s.value.pgdata_volume, s.origin
            )],
            if s.value.pgdata_pvcs.is_empty() {
                format!(
                    "PGDATA {} is not on a PersistentVolumeClaim",
                    s.value.pgdata
                )
            } else {
                format!("PGDATA is on {}", s.value.pgdata_pvcs.join(", "))
            },
        ),
    }
}

/// `pvc.pgdata_active`: PGDATA's PVCs are in active_pvc.list.
fn pgdata_active(inv: &mut Inv, inputs: &ContractInputs) {
    let sts = inputs.statefulset.as_ref();
    match (sts, &inputs.active_pvcs) {
        (Some(s), Some(active)) => {
            let missing: Vec<&String> = s
                .value
                .pgdata_pvcs
                .iter()
                .filter(|p| !inputs::listed(&active.value, p, &s.value.namespace))
                .collect();
            inv.push(
                InvariantId::PvcPgdataActive,
                if missing.is_empty() && !s.value.pgdata_pvcs.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                vec![
                    format!("{} lists {}", active.origin, active.value.join(", ")),
                    format!(
                        "PGDATA PVCs {}{}",
                        s.value.pgdata_pvcs.join(", "),
                        match s.value.pgdata_pvcs_not_listed {
                            0 => String::new(),
                            n => format!(" and {n} more (one per replica)"),
                        }
                    ),
                ],
                if missing.is_empty() {
                    "PGDATA's PVC is in active_pvc.list".into()
                } else {
                    format!(
                        "PGDATA's PVC {} is not in {}",
                        missing
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        active.origin
                    )
                },
            );
        }
        (None, _) => inv.unknown(InvariantId::PvcPgdataActive, "statefulset"),
        (_, None) => inv.unknown(
            InvariantId::PvcPgdataActive,
            "active_pvcs (active_pvc.list)",
        ),
    }
}

/// `pvc.no_orphans` and `pvc.active_list_current`: every PVC is listed, and
/// every listed PVC exists.
fn orphans_and_stale_entries(inv: &mut Inv, inputs: &ContractInputs) {
    match (&inputs.pvcs, &inputs.active_pvcs) {
        (Some(pvcs), Some(active)) => {
            let orphans: Vec<String> = pvcs
                .value
                .iter()
                .filter(|p| !inputs::listed(&active.value, &p.name, &p.namespace))
                .map(|p| format!("{}/{} ({})", p.namespace, p.name, p.phase))
                .collect();
            inv.push(
                InvariantId::PvcNoOrphans,
                if orphans.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                if orphans.is_empty() {
                    vec![format!(
                        "{}: {} PVCs, all in {}",
                        pvcs.origin,
                        pvcs.value.len(),
                        active.origin
                    )]
                } else {
                    orphans
                        .iter()
                        .map(|o| format!("{o} in {}", pvcs.origin))
                        .collect()
                },
                if orphans.is_empty() {
                    "no orphan PVCs".into()
                } else {
                    format!(
                        "orphan PVCs not in {}: {}",
                        active.origin,
                        orphans.join(", ")
                    )
                },
            );
            let stale: Vec<&String> = active
                .value
                .iter()
                .filter(|e| {
                    !pvcs
                        .value
                        .iter()
                        .any(|p| inputs::listed(&[(*e).clone()], &p.name, &p.namespace))
                })
                .collect();
            inv.push(
                InvariantId::PvcActiveListCurrent,
                if stale.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                vec![format!("{} vs {}", active.origin, pvcs.origin)],
                if stale.is_empty() {
                    "every listed PVC exists".into()
                } else {
                    format!(
                        "{} lists PVCs that do not exist: {}",
                        active.origin,
                        stale
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            );
        }
        (None, _) => {
            inv.unknown(InvariantId::PvcNoOrphans, "pvcs");
            inv.unknown(InvariantId::PvcActiveListCurrent, "pvcs");
        }
        (_, None) => {
            inv.unknown(InvariantId::PvcNoOrphans, "active_pvcs (active_pvc.list)");
            inv.unknown(
                InvariantId::PvcActiveListCurrent,
                "active_pvcs (active_pvc.list)",
            );
        }
    }
}
