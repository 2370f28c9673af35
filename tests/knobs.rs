//! The retention knobs' declaration (`ssot_core::retention::KNOBS`) against
//! the one surface that lives in a file of its own: Python's
//! `RetentionPolicy` `TypedDict` in `ssot-py/python/ssot/options.py`,
//! whose keys are generated from the declaration
//! (`ssot_core::retention::knobs::python_typed_dict()`) and written by
//! `SSOT_BLESS=1 cargo test --test knobs` (the CLI's flags, the policy, the
//! patch and the Rhai docs are generated at build time, and tested where
//! they are).

use std::path::{Path, PathBuf};

use ssot_core::retention::knobs::{python_typed_dict, PYTHON_BEGIN, PYTHON_END};
use ssot_core::retention::KNOBS;

fn options_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ssot-py/python/ssot/options.py")
}

/// The generated keys of `options.py` are what the declaration renders
/// now; `SSOT_BLESS=1` rewrites them.
#[test]
fn pythons_retention_policy_keys_are_generated_from_the_declaration() {
    let path = options_py();
    let source = std::fs::read_to_string(&path).unwrap();
    let generated = format!("{PYTHON_BEGIN}\n{}{PYTHON_END}\n", python_typed_dict());
    let (start, end) = match (source.find(PYTHON_BEGIN), source.find(PYTHON_END)) {
        (Some(s), Some(e)) if s < e => (s, e + PYTHON_END.len() + 1),
        _ => panic!(
            "{}: no generated RetentionPolicy keys between their markers",
            path.display()
        ),
    };
    if std::env::var_os("SSOT_BLESS").is_some() {
        let blessed = format!("{}{generated}{}", &source[..start], &source[end..]);
        std::fs::write(&path, blessed).unwrap();
        return;
    }
    assert_eq!(
        &source[start..end],
        generated,
        "{}: RetentionPolicy's keys differ from ssot_core::retention_knobs!; run `SSOT_BLESS=1 cargo test --test knobs`",
        path.display()
    );
    // Two lines per knob: the key and its docstring, each knob's doc once.
    assert_eq!(python_typed_dict().lines().count(), 2 * KNOBS.len());
    for knob in KNOBS {
        let docstring = format!("    \"\"\"{}\"\"\"", knob.doc);
        assert_eq!(generated.matches(&docstring).count(), 1, "{}", knob.name);
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

/// The class as Python reads it has exactly the declared knobs, in order,
/// with their types: no key added by hand outside the generated lines.
#[test]
fn pythons_retention_policy_typed_dict_has_every_declared_knob_in_order() {
    let path = options_py();
    let source = std::fs::read_to_string(&path).unwrap();
    let have = typed_dict_keys(&source, "RetentionPolicy");
    let want: Vec<(String, String)> = KNOBS
        .iter()
        .map(|k| (k.name.to_string(), k.kind.python_type().to_string()))
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
    let src = "class A(TypedDict, total=False):\n    \"\"\"Doc: not a key.\"\"\"\n\n    a: int\n    \"\"\"Key doc: not a key.\"\"\"\n    b: Union[int, str]\n\n\nclass B(A):\n    c: str\n";
    assert_eq!(
        typed_dict_keys(src, "A"),
        [
            ("a".into(), "int".into()),
            ("b".into(), "Union[int, str]".into())
        ]
    );
}
