//! Parsers for the output of the tools an operator already runs, in their
//! exact formats: `kubectl` JSON, `psql -AtF,` rows, `ps`, `postgresql.auto.conf`,
//! `/proc/mounts`, PostgreSQL's arguments inside a container command line, and
//! the answer of a live probe of the server.
//! Every error names the input and where in it. Pure: the text comes in, facts go out.

mod argv;
mod conf;
mod conninfo;
mod kubectl;
mod live;
mod mounts;
mod ps;
mod psql;

pub use argv::{postgres_invocations, settings_from_argv, ArgSetting};
pub use conf::{
    auto_conf_lines, parse_auto_conf, parse_postgresql_conf, read_postgresql_conf, ConfFiles,
    ConfLine, ConfSetting, PostgresqlConf, CONF_MAX_DEPTH, CONF_MAX_FILES,
};
pub use conninfo::{handoff, mask_dsn, redact, ConnInfo, Handoff};
pub use kubectl::{
    listed, parse_active_pvcs, parse_pvcs, parse_statefulset, Pvc, Replicas, StatefulSetFacts,
    PVC_NAMES_LISTED,
};
pub use live::{parse_live, ArchiverStats, LiveFacts, WalDir, LIVE_QUERY};
pub use mounts::{parse_mounts, Mount};
pub use ps::{parse_processes, Process};
pub use psql::{parse_pg_settings, parse_slots, RuntimeSetting};
