//! Rhai runbook engine for ssot (skeleton until its own issue).
