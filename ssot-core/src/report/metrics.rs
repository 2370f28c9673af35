//! The report's Prometheus metrics, declared once.
//!
//! Each metric is a [`MetricDecl`] next to the section whose facts it reads
//! (`WAL_METRICS` in `report/wal.rs`, `BACKUP_METRICS` in
//! `report/evidence.rs`, ...): its name, HELP, type, labels, a line for the
//! metric reference, and the function that reads its samples from the
//! section's typed facts. The Prometheus rendering
//! ([`super::render::prometheus`]) and the metric reference in the docs
//! ([`reference_markdown`]) are both derived from these declarations; a
//! test compares the docs' table with [`reference_markdown`].

use std::fmt::Write;

use serde::Serialize;

use super::{Report, SectionFacts, SectionId, Verdict};

/// A Prometheus metric type. Every ssot metric is a gauge: the report is a
/// snapshot of state, recomputed on each run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A value that can go up and down.
    Gauge,
}

impl MetricKind {
    /// The name in a `# TYPE` line.
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
        }
    }
}

/// What a metric is: everything but its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct MetricSpec {
    /// Name without the `ssot_` prefix, in base units (`wal_size_bytes`).
    pub name: &'static str,
    /// The HELP text.
    pub help: &'static str,
    /// The TYPE.
    pub kind: MetricKind,
    /// Label names, in the order samples give their values.
    pub labels: &'static [&'static str],
    /// When a sample is there (or what else to know): the metric reference's
    /// last column.
    pub doc: &'static str,
}

/// Samples of one metric: label values (in the order of its labels) and the value.
pub type Samples = Vec<(Vec<String>, f64)>;

/// A metric declared by the owner of the facts `F` it reads.
pub struct MetricDecl<F: 'static> {
    /// What it is.
    pub spec: MetricSpec,
    /// Its samples from the facts: label values (in the order of
    /// `spec.labels`) and the value. Empty when the fact is unknown.
    pub samples: fn(&F) -> Samples,
}

impl<F> MetricDecl<F> {
    /// A gauge read by `samples`.
    pub const fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        doc: &'static str,
        samples: fn(&F) -> Samples,
    ) -> Self {
        MetricDecl {
            spec: MetricSpec {
                name,
                help,
                kind: MetricKind::Gauge,
                labels,
                doc,
            },
            samples,
        }
    }

    /// The samples of this metric in `facts`.
    pub fn read(&'static self, facts: &F) -> impl Iterator<Item = Metric> {
        (self.samples)(facts)
            .into_iter()
            .map(move |(labels, value)| Metric {
                spec: &self.spec,
                labels,
                value,
            })
    }
}

/// A sample without labels.
pub fn one(value: f64) -> Samples {
    vec![(Vec::new(), value)]
}

/// A sample without labels, when the fact is known.
pub fn known(value: Option<f64>) -> Samples {
    value.map(one).unwrap_or_default()
}

/// 1.0 for true, 0.0 for false.
pub fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Typed facts that declare their metrics.
pub trait Declared: Sized + 'static {
    /// The metrics read from these facts, in the order they are rendered.
    const METRICS: &'static [MetricDecl<Self>];

    /// Every sample of every declared metric.
    fn metrics(&self) -> Vec<Metric> {
        Self::METRICS.iter().flat_map(|d| d.read(self)).collect()
    }

    /// The declarations' specs.
    fn specs() -> Vec<&'static MetricSpec> {
        Self::METRICS.iter().map(|d| &d.spec).collect()
    }
}

/// One Prometheus sample (rendered with the `ssot_` prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its declaration.
    pub spec: &'static MetricSpec,
    /// Label values, in the order of `spec.labels`.
    pub labels: Vec<String>,
    /// Value.
    pub value: f64,
}

const VERDICTS: [Verdict; 3] = [Verdict::Ok, Verdict::Degraded, Verdict::Down];

/// The metrics of the report as a whole, rendered before the sections'.
pub const REPORT_METRICS: &[MetricDecl<Report>] = &[
    MetricDecl::gauge(
        "build_info",
        "The ssot version that rendered these metrics (always 1)",
        &["version"],
        "Always; the version of the ssot that wrote the file.",
        |_| vec![(vec![super::render::VERSION.to_string()], 1.0)],
    ),
    MetricDecl::gauge(
        "verdict",
        "Overall verdict of the single view of truth (1 for the current one)",
        &["verdict"],
        "Always, one sample per verdict (`OK`, `DEGRADED`, `DOWN`).",
        |r| {
            VERDICTS
                .iter()
                .map(|v| (vec![v.as_str().to_string()], flag(r.verdict == *v)))
                .collect()
        },
    ),
    MetricDecl::gauge(
        "section_status",
        "Status of each report section (1 for the current one)",
        &["section", "status"],
        "Always, one sample per section and status.",
        |r| {
            r.sections
                .iter()
                .flat_map(|s| {
                    VERDICTS.iter().map(move |v| {
                        (
                            vec![s.name.as_str().to_string(), v.as_str().to_string()],
                            flag(s.status == *v),
                        )
                    })
                })
                .collect()
        },
    ),
];

/// The metrics of the report rendered after the sections'.
pub const REPORT_TAIL_METRICS: &[MetricDecl<Report>] = &[MetricDecl::gauge(
    "report_generated_timestamp_seconds",
    "When this report was generated",
    &[],
    "Always.",
    |r| one(r.generated_at.timestamp() as f64),
)];

/// Every sample of the report, in rendering order: the report's own
/// metrics, each section's in the report's order, then the report's tail.
pub fn samples(r: &Report) -> Vec<Metric> {
    let mut all: Vec<Metric> = REPORT_METRICS.iter().flat_map(|d| d.read(r)).collect();
    for s in &r.sections {
        all.extend(s.facts.metrics());
    }
    all.extend(REPORT_TAIL_METRICS.iter().flat_map(|d| d.read(r)));
    all
}

/// Every declared metric with the section that owns it (`None` for the
/// report's own), in rendering order.
pub fn declarations() -> Vec<(Option<SectionId>, &'static MetricSpec)> {
    let mut v: Vec<(Option<SectionId>, &'static MetricSpec)> =
        REPORT_METRICS.iter().map(|d| (None, &d.spec)).collect();
    for id in SectionId::ALL {
        v.extend(SectionFacts::specs(id).into_iter().map(|s| (Some(id), s)));
    }
    v.extend(REPORT_TAIL_METRICS.iter().map(|d| (None, &d.spec)));
    v
}

/// The metric reference: a Markdown table of every declared metric (name,
/// labels, section, HELP, when it is there), generated from the
/// declarations. `docs/src/report.md` holds it between the markers
/// [`REFERENCE_BEGIN`] and [`REFERENCE_END`]; a test keeps the two equal.
pub fn reference_markdown() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| metric | labels | section | meaning | present |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (section, spec) in declarations() {
        let labels = if spec.labels.is_empty() {
            "—".to_string()
        } else {
            spec.labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "| `ssot_{}` | {labels} | {} | {} | {} |",
            spec.name,
            section.map_or("report", SectionId::as_str),
            spec.help.replace('|', "\\|"),
            spec.doc.replace('|', "\\|"),
        );
    }
    s
}

/// The line before the generated table in `docs/src/report.md`.
pub const REFERENCE_BEGIN: &str =
    "<!-- generated from ssot_core::report::metrics::reference_markdown(): do not edit -->";
/// The line after it.
pub const REFERENCE_END: &str = "<!-- end of generated table -->";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_is_declared_once_with_a_doc_line() {
        let decls = declarations();
        let mut names: Vec<&str> = decls.iter().map(|(_, s)| s.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a metric declared twice");
        for (_, s) in &decls {
            assert!(!s.doc.is_empty() && !s.help.is_empty(), "{}", s.name);
            assert!(
                s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                s.name
            );
        }
    }
}
