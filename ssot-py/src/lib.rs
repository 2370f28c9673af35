//! Python bindings for ssot (skeleton until its own issue).
