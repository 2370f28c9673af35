//! `gate.log`: one JSON [`Decision`] per line, appended by every gate. The
//! report's gates section and the `gate_used:`/`gate_denied:` stage criteria
//! both read it through [`GateLog`], so a corrupt or future-dated line is
//! treated the same way everywhere: counted, never trusted.

use chrono::{DateTime, Utc};

use super::{StateInput, Untrusted};
use crate::decision::Decision;

/// The decisions in `gate.log`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateLog {
    /// Every line that parsed as a decision, in file order.
    pub decisions: Vec<Decision>,
    /// Non-empty lines that are not decisions.
    pub corrupt: usize,
}

impl GateLog {
    /// The line [`GateLog::parse`] reads back for `d` (no newline).
    pub fn line(d: &Decision) -> String {
        // A decision is plain data (enums, strings, a timestamp): it always serializes.
        serde_json::to_string(d).unwrap_or_default()
    }

    /// Parses the log's bytes; a line that is not a decision is counted in
    /// [`GateLog::corrupt`] (a truncated tail after a crash is one such line).
    pub fn parse(content: &[u8]) -> GateLog {
        let text = String::from_utf8_lossy(content);
        let mut log = GateLog::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Decision>(line) {
                Ok(d) => log.decisions.push(d),
                Err(_) => log.corrupt += 1,
            }
        }
        log
    }

    /// Reads the log as found: an absent log is an empty one (no gate has
    /// run yet); an unreadable or refused one cannot be trusted.
    pub fn load(input: &StateInput) -> Result<GateLog, Untrusted> {
        match input {
            StateInput::Missing { .. } => Ok(GateLog::default()),
            StateInput::Unreadable { path, error } => {
                Err(Untrusted::Unreadable(path.clone(), error.clone()))
            }
            StateInput::Invalid { path, problem } => {
                Err(Untrusted::Corrupt(format!("{path} {problem}")))
            }
            StateInput::Present { content, .. } => Ok(GateLog::parse(content)),
        }
    }

    /// The decisions made at or before `now`: one dated later was written by
    /// a skewed clock and is not evidence of anything yet.
    pub fn until(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(move |d| d.decided_at <= now)
    }

    /// Decisions dated after `now`.
    pub fn future_dated(&self, now: DateTime<Utc>) -> usize {
        self.decisions.iter().filter(|d| d.decided_at > now).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Operation;

    fn decision(at: &str, allowed: bool) -> Decision {
        Decision {
            operation: Operation::Backup,
            allowed,
            decided_at: at.parse().unwrap(),
            target: None,
            reasons: vec![],
        }
    }

    #[test]
    fn round_trips_and_counts_what_is_not_a_decision() {
        let d = decision("2026-02-05T12:00:00Z", false);
        let text = format!(
            "{}\n\nnot json\n{{\"operation\":\"backup\"}}\n{}\n{{\"trunc",
            GateLog::line(&d),
            GateLog::line(&d)
        );
        let log = GateLog::parse(text.as_bytes());
        assert_eq!(log.decisions, vec![d.clone(), d]);
        assert_eq!(log.corrupt, 3);
    }

    #[test]
    fn future_decisions_are_not_evidence_yet() {
        let log = GateLog {
            decisions: vec![
                decision("2026-02-05T12:00:00Z", true),
                decision("2026-02-05T13:00:00Z", false),
            ],
            corrupt: 0,
        };
        let now = "2026-02-05T12:30:00Z".parse().unwrap();
        assert_eq!(log.until(now).count(), 1);
        assert_eq!(log.future_dated(now), 1);
    }

    #[test]
    fn a_refused_log_is_untrusted_and_a_missing_one_empty() {
        let missing = StateInput::Missing {
            path: "gate.log".into(),
        };
        assert_eq!(GateLog::load(&missing), Ok(GateLog::default()));
        let refused = StateInput::Invalid {
            path: "gate.log".into(),
            problem: "is a symlink".into(),
        };
        assert!(
            matches!(GateLog::load(&refused), Err(Untrusted::Corrupt(m)) if m.contains("symlink"))
        );
    }
}
