//! The state directory on a full filesystem: a small tmpfs (mounting needs
//! root; elsewhere the test says so and the same case runs through the port in
//! `ssot-core/tests/mem_host.rs`).

use std::process::Command;

use super::*;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_state_filesystem_keeps_the_old_status_and_the_gate_denies() {
    let sb = Sandbox::build();
    let state = sb.dir.join("small-state");
    fs::create_dir_all(&state).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", s(&state)])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!(
            "cannot mount a tmpfs here (not root?): skipped; the port-level test covers ENOSPC"
        );
        return;
    }
    let _mount = Mount(state.clone());
    // A fresh tmpfs is 1777: ssot trusts no state directory others can write,
    // so the operator gives it to ssot's user, 0750.
    fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
    let with_state = |args: &[&str]| {
        let mut a = sb.args(args);
        a.splice(0..0, ["--state".to_string(), s(&state).to_string()]);
        ssot().args(a).output().unwrap()
    };
    let o = with_state(&["wal", "check"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = fs::read(state.join("wal.status")).unwrap();

    // Fill the filesystem.
    let filler = state.join("filler");
    let _ = fs::write(&filler, vec![0u8; 1 << 20]);
    assert!(
        fs::metadata(&filler).unwrap().len() < 1 << 20,
        "the tmpfs is full"
    );

    let o = with_state(&["wal", "check"]);
    assert_eq!(code(&o), 3, "a status that cannot be written is no verdict");
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read(state.join("wal.status")).unwrap(),
        before,
        "the old wal.status survives whole"
    );
    assert!(
        !fs::read_dir(&state).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")),
        "no temp file is left behind"
    );
    let Some(target) = &sb.target else {
        eprintln!(
            "no second filesystem: the gate would deny separate_filesystem anyway; stopping here"
        );
        return;
    };
    let gate = |extra: &[&str]| {
        let mut a = vec!["gate", "backup", "--target", s(target.path())];
        a.extend(extra);
        with_state(&a)
    };
    let o = gate(&[]);
    assert_eq!(code(&o), 2, "the gate denies");
    let err = stderr(&o);
    assert!(
        err.contains("gate.log") && err.contains("No space left on device"),
        "{err}"
    );

    fs::remove_file(&filler).unwrap();
    let o = with_state(&["wal", "check"]);
    assert_eq!(code(&o), 0, "once there is room again: {}", stderr(&o));
    let o = gate(&[]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}
