//! The retention knobs' declaration (`ssot_core::retention::KNOBS`) against
//! the surface that is written by hand: Python's `RetentionPolicy`
//! `TypedDict` in `ssot-py/python/ssot/options.py` (the CLI's flags, the
//! policy, the patch and the Rhai docs are generated from the declaration,
//! and tested where they are).

use std::path::Path;

use ssot_core::retention::{KnobKind, KNOBS};

/// The Python type of each kind, as `options.py` spells it.
fn python_type(kind: KnobKind) -> &'static str {
    match kind {
        KnobKind::Count | KnobKind::Floor => "int",
        KnobKind::Within | KnobKind::Age | KnobKind::Grace => "_Duration",
        KnobKind::Tags => "Sequence[Sequence[str]]",
        KnobKind::Size => "_Size",
        KnobKind::Zone => "str",
        KnobKind::MaxDelete => "Union[int, str]",
        KnobKind::Compat => "Literal[\"current\", \"0.14\"]",
    }
}

/// The `name: type` lines of `class NAME(...)` in a Python file.
fn typed_dict_keys(source: &str, class: &str) -> Vec<(String, String)> {
    let head = format!("class {class}(");
    let mut lines = source.lines().skip_while(|l| !l.starts_with(&head));
    assert!(lines.next().is_some(), "no {head}");
    lines
        .take_while(|l| !l.starts_with("class "))
        .filter_map(|l| {
            let l = l.strip_prefix("    ")?;
            let (name, ty) = l.split_once(": ")?;
            let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            plain.then(|| (name.to_string(), ty.trim().to_string()))
        })
        .collect()
}

#[test]
fn pythons_retention_policy_typed_dict_has_every_declared_knob_in_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ssot-py/python/ssot/options.py");
    let source = std::fs::read_to_string(&path).unwrap();
    let have = typed_dict_keys(&source, "RetentionPolicy");
    let want: Vec<(String, String)> = KNOBS
        .iter()
        .map(|k| (k.name.to_string(), python_type(k.kind).to_string()))
        .collect();
    assert_eq!(
        have,
        want,
        "{} must declare exactly the knobs of ssot_core::retention_knobs!, in order",
        path.display()
    );
}

#[test]
fn the_typed_dict_reader_reads_keys_and_stops_at_the_next_class() {
    let src = "class A(TypedDict, total=False):\n    \"\"\"Doc: not a key.\"\"\"\n\n    a: int\n    b: Union[int, str]\n\n\nclass B(A):\n    c: str\n";
    assert_eq!(
        typed_dict_keys(src, "A"),
        [
            ("a".into(), "int".into()),
            ("b".into(), "Union[int, str]".into())
        ]
    );
}
