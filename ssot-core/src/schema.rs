//! The JSON Schema of the results (feature `schema`): what their JSON
//! holds, field by field, with the doc comments as descriptions. Most result
//! types derive [`schemars::JsonSchema`]; the ones serialized by hand get
//! their schema here, beside nothing else. The Python binding builds its
//! result classes and its stubs from these schemas, so a field added to a
//! result appears there too (or its stub check fails).

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::retention::{RetentionPlan, RetentionReason};
use crate::{DrDrillRecorded, RetentionPlanned};

impl JsonSchema for RetentionReason {
    fn schema_name() -> Cow<'static, str> {
        "RetentionReason".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "One reason, as the sentence a plan shows (`daily 2026-11-20`, `parent of X`)."
        })
    }
}

impl JsonSchema for RetentionPlan {
    fn schema_name() -> Cow<'static, str> {
        "RetentionPlan".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let entries = g.subschema_for::<Vec<crate::retention::ArtifactDecision>>();
        let summary = g.subschema_for::<crate::retention::Summary>();
        let refused = g.subschema_for::<Option<String>>();
        let warnings = g.subschema_for::<Vec<String>>();
        let now = g.subschema_for::<chrono::DateTime<chrono::Utc>>();
        json_schema!({
            "type": "object",
            "description": "A retention plan: every artifact with keep or delete and its reasons.",
            "properties": {
                "keep": with_doc(entries.clone(), "The artifacts kept, by group, newest first."),
                "delete": with_doc(entries, "The artifacts to delete, by group, newest first."),
                "warnings": with_doc(warnings, "Things a person should look at before applying."),
                "summary": with_doc(summary, "Totals."),
                "refused": with_doc(refused, "Set when the plan must not be applied (e.g. over `max_delete`)."),
                "plan_hash": {"type": "string", "description": "sha256 of the decisions (group, id, action), hex."},
                "now": with_doc(now, "The evaluation time."),
            },
            "required": ["keep", "delete", "warnings", "summary", "refused", "plan_hash", "now"],
        })
    }
}

impl JsonSchema for RetentionPlanned {
    fn schema_name() -> Cow<'static, str> {
        RetentionPlan::schema_name()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        RetentionPlan::json_schema(g)
    }
}

impl JsonSchema for DrDrillRecorded {
    fn schema_name() -> Cow<'static, str> {
        crate::evidence::DrOutcome::schema_name()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        crate::evidence::DrOutcome::json_schema(g)
    }
}

/// `s` with `description` set to `doc` (a reference keeps its target's
/// description otherwise).
fn with_doc(mut s: Schema, doc: &str) -> Schema {
    s.insert("description".into(), doc.into());
    s
}

/// The schema of `T` as it serializes (a field with a serde default is
/// still always written), its definitions under `$defs` (JSON Schema 2020-12).
pub fn schema_of<T: JsonSchema>() -> Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use serde_json::Value;

    use super::*;

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The hand-written schemas name exactly the keys the hand-written
    /// `Serialize` writes, each with a description (the Python docstring).
    #[test]
    fn the_hand_written_schemas_match_the_json() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let plan = RetentionPlan::refused("over max_delete".into(), now);
        let json = serde_json::to_value(&plan).unwrap();
        let schema = schema_of::<RetentionPlan>().to_value();
        assert_eq!(keys(&schema["properties"]), keys(&json));
        assert_eq!(keys(&schema["properties"]).len(), 7);
        for (name, p) in schema["properties"].as_object().unwrap() {
            assert!(
                p["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}"
            );
        }
        let planned = schema_of::<RetentionPlanned>().to_value();
        assert_eq!(planned["properties"], schema["properties"]);
        assert!(schema["$defs"]["ArtifactDecision"]["properties"]["reasons"].is_object());
        assert_eq!(schema["$defs"]["RetentionReason"]["type"], "string");
    }

    /// A section's facts are typed by its `name`: the schema's alternative
    /// for each section id is the facts type that section holds.
    #[test]
    fn each_section_id_selects_the_facts_type_its_section_holds() {
        use crate::report::{SectionFacts, SectionId};
        let schema = schema_of::<crate::report::Report>().to_value();
        let facts = &schema["$defs"]["SectionFacts"];
        assert_eq!(facts["x-selected-by"], "name");
        assert!(schema["$defs"]["Section"]["properties"]["name"].is_object());
        let alts = facts["anyOf"].as_array().unwrap();
        assert_eq!(alts.len(), SectionId::ALL.len());
        for id in SectionId::ALL {
            let held = format!("{:?}", SectionFacts::empty(id));
            let variant = held.split('(').next().unwrap();
            let alt = alts
                .iter()
                .find(|a| a["x-when"] == id.as_str())
                .unwrap_or_else(|| panic!("no alternative for {id}"));
            assert_eq!(
                alt["$ref"],
                format!("#/$defs/{variant}SectionFacts"),
                "{id}"
            );
        }
    }

    /// Every field of a derived result schema has a description and a time
    /// is a `date-time` string.
    #[test]
    fn derived_schemas_describe_every_field() {
        let schema = schema_of::<crate::wal::WalReport>().to_value();
        let props = schema["properties"].as_object().unwrap();
        assert!(props.len() >= 17, "{}", props.len());
        for (name, p) in props {
            assert!(
                p["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}"
            );
        }
        assert_eq!(props["checked_at"]["format"], "date-time");
        // As serialized: a field with a serde default is always written.
        let required = keys(&Value::Object(
            schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| (k.as_str().unwrap().to_string(), Value::Null))
                .collect(),
        ));
        assert!(required.contains("volumes") && required.contains("df_used_pct"));
    }
}
