//! The documentation works as printed: `README.md` and the book in `docs/src/`.
//!
//! - every ```` ```sh ```` block runs with `bash -euo pipefail` from the repository's
//!   root, with the built `ssot` as `~/.cargo/bin/ssot` on PATH and a scratch HOME and
//!   TMPDIR per file (the blocks of one file share them, in order); a command must exit 0
//!   unless its line ends with `# exit N` or `# exit N|M`, and then with one of those;
//! - a ```` ```sh,no-run ```` block (root, systemd, a real server, minutes of building)
//!   is only checked with `bash -n`;
//! - a ```` ```toml ```` block that does not start with `# fragment` loads as a
//!   configuration (`ssot --config FILE config show`);
//! - relative links resolve, `#fragments` name a heading of their target, the book's
//!   pages link only inside the book, SUMMARY.md lists every page, and the alert rules'
//!   runbook links resolve;
//! - with `mdbook` on PATH, `mdbook build docs` passes (skipped, saying so, without it).

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one block may run before it is killed as hung (a bound, not a timing
/// assertion: every block finishes in seconds).
const BLOCK_LIMIT: Duration = Duration::from_secs(600);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, then the book's pages in SUMMARY.md's order (then any page it misses).
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let src = repo().join("docs/src");
    for target in summary_links() {
        files.push(src.join(target));
    }
    let mut rest: Vec<PathBuf> = fs::read_dir(&src)
        .expect("docs/src exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !files.contains(p))
        .collect();
    rest.sort();
    files.extend(rest);
    files.retain(|p| p.file_name().is_some_and(|n| n != "SUMMARY.md"));
    files
}

fn rel(p: &Path) -> String {
    p.strip_prefix(repo()).unwrap_or(p).display().to_string()
}

/// A fenced code block: its info string, its first line's number, its text.
struct Block {
    info: String,
    line: usize,
    text: String,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        match open.as_mut() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim().to_string(),
                        line: i + 1,
                        text: String::new(),
                    });
                }
            }
            Some(b) => {
                if line.trim_end() == "```" {
                    out.push(open.take().unwrap());
                } else {
                    b.text.push_str(line);
                    b.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    out
}

/// The exit codes a line's trailing `# exit N|M` allows, and the command before it.
fn expected_exit(line: &str) -> Option<(&str, Vec<i32>)> {
    let at = line.find("# exit ")?;
    let (cmd, note) = line.split_at(at);
    let codes: String = note["# exit ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '|')
        .collect();
    let codes: Vec<i32> = codes.split('|').filter_map(|c| c.parse().ok()).collect();
    (!codes.is_empty()).then_some((cmd.trim_end(), codes))
}

/// A block as the test runs it: a command whose (last) line ends with
/// `# exit N|M` checks its exit code; a command may continue over lines with `\\`.
fn runnable(text: &str) -> String {
    let mut script = String::from(
        "set -euo pipefail\n\
         __docs_expect() { case \"|$1|\" in *\"|$2|\"*) ;; *) \
         printf 'docs: expected exit %s, got %s: %s\\n' \"$1\" \"$2\" \"$3\" >&2; exit 97;; esac; }\n",
    );
    let mut command: Vec<&str> = Vec::new();
    for line in text.lines() {
        command.push(line);
        if line.trim_end().ends_with('\\') {
            continue;
        }
        match expected_exit(line) {
            Some((last, codes)) => {
                let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
                let first = if command.len() == 1 { last } else { command[0] };
                let quoted = first.replace('\'', "'\\''");
                script.push_str("__docs_rc=0; ");
                for l in &command[..command.len() - 1] {
                    script.push_str(l);
                    script.push('\n');
                }
                script.push_str(&format!(
                    "{last} || __docs_rc=$?; __docs_expect '{}' \"$__docs_rc\" '{quoted}'\n",
                    codes.join("|")
                ));
            }
            None => {
                for l in &command {
                    script.push_str(l);
                    script.push('\n');
                }
            }
        }
        command.clear();
    }
    for l in &command {
        script.push_str(l);
        script.push('\n');
    }
    script
}

/// A scratch home with `ssot` where `cargo install` puts it.
struct Scratch {
    _dir: tempfile::TempDir,
    home: PathBuf,
    tmp: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let home = root.join("home");
        let tmp = root.join("tmp");
        fs::create_dir_all(home.join(".cargo/bin")).unwrap();
        fs::create_dir_all(&tmp).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ssot"), home.join(".cargo/bin/ssot"))
            .unwrap();
        Scratch {
            _dir: dir,
            home,
            tmp,
        }
    }

    fn bash(&self, args: &[&str]) -> Command {
        let mut c = Command::new("bash");
        c.args(args).current_dir(repo());
        for var in [
            "SSOT_CONFIG",
            "SSOT_STATE_DIR",
            "SSOT_DSN",
            "PGDATA",
            "MANPATH",
            "CARGO_HOME",
            "XDG_DATA_HOME",
        ] {
            c.env_remove(var);
        }
        let path = std::env::var("PATH").unwrap_or_default();
        c.env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env(
                "PATH",
                format!("{}:{path}", self.home.join(".cargo/bin").display()),
            )
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .stdin(Stdio::null());
        c
    }
}

/// Runs a command, killing its process group if it outlives `BLOCK_LIMIT`.
fn run_bounded(mut c: Command) -> (Option<i32>, String) {
    let out = tempfile::tempfile().unwrap();
    c.stdout(out.try_clone().unwrap())
        .stderr(out.try_clone().unwrap())
        .process_group(0);
    let mut child = c.spawn().expect("bash runs");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > BLOCK_LIMIT {
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    let mut out = out;
    std::io::Seek::rewind(&mut out).unwrap();
    let mut bytes = Vec::new();
    out.read_to_end(&mut bytes).unwrap();
    text.push_str(&String::from_utf8_lossy(&bytes));
    (status.and_then(|s| s.code()), text)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn is_sh(info: &str) -> bool {
    info == "sh"
}

fn is_no_run(info: &str) -> bool {
    info == "sh,no-run"
}

#[test]
fn every_runnable_shell_block_runs_as_printed() {
    let have_man = Command::new("sh")
        .args(["-c", "command -v man"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut ran = 0;
    let mut failures = Vec::new();
    for file in doc_files() {
        let md = fs::read_to_string(&file).unwrap();
        let runnable_blocks: Vec<Block> =
            blocks(&md).into_iter().filter(|b| is_sh(&b.info)).collect();
        if runnable_blocks.is_empty() {
            continue;
        }
        let scratch = Scratch::new();
        for b in runnable_blocks {
            let origin = format!("{}:{}", rel(&file), b.line);
            if b.text.contains("\nman ") || b.text.starts_with("man ") {
                assert!(
                    have_man,
                    "{origin} runs `man`: install man-db (scripts/install-test-deps does)"
                );
            }
            let script = runnable(&b.text);
            let (code, output) = run_bounded(scratch.bash(&["-c", &script]));
            ran += 1;
            if code != Some(0) {
                failures.push(format!(
                    "{origin}: exited {code:?}\n--- block ---\n{}--- output (tail) ---\n{}",
                    b.text,
                    tail(&output, 30)
                ));
                // Later blocks of this file may depend on this one.
                break;
            }
        }
    }
    assert!(ran >= 10, "only {ran} runnable blocks found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_no_run_block_is_valid_bash_and_every_sh_block_is_marked() {
    let mut checked = 0;
    for file in doc_files() {
        let md = fs::read_to_string(&file).unwrap();
        for b in blocks(&md) {
            let origin = format!("{}:{}", rel(&file), b.line);
            assert!(
                !matches!(
                    b.info.as_str(),
                    "bash" | "shell" | "console" | "sh,no_run" | "sh no-run"
                ),
                "{origin}: use ```sh (run by this test) or ```sh,no-run (syntax-checked)"
            );
            if is_sh(&b.info) || is_no_run(&b.info) {
                let o = Command::new("bash")
                    .args(["-n", "-c", &b.text])
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{origin}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} shell blocks found");
}

#[test]
fn every_toml_example_loads_as_a_configuration() {
    let scratch = Scratch::new();
    let mut loaded = 0;
    for file in doc_files() {
        let md = fs::read_to_string(&file).unwrap();
        for b in blocks(&md) {
            if b.info != "toml" || b.text.starts_with("# fragment") {
                continue;
            }
            let origin = format!("{}:{}", rel(&file), b.line);
            let cfg = scratch.home.join(format!("example-{loaded}.toml"));
            fs::write(&cfg, &b.text).unwrap();
            let o = Command::new(env!("CARGO_BIN_EXE_ssot"))
                .arg("--config")
                .arg(&cfg)
                .args(["config", "show"])
                .env_remove("SSOT_CONFIG")
                .env_remove("SSOT_STATE_DIR")
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{origin}: {}\n{}",
                String::from_utf8_lossy(&o.stderr),
                b.text
            );
            loaded += 1;
        }
    }
    assert!(loaded >= 4, "only {loaded} toml examples found");
}

/// GitHub's and mdBook's anchor for a heading's text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().collect::<String>())
            } else if c.is_whitespace() {
                Some("-".into())
            } else {
                None
            }
        })
        .collect()
}

/// The lines of a Markdown file outside fenced code blocks.
fn prose(md: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    md.lines().filter(move |line| {
        if line.starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The anchors a Markdown file's headings define (outside code blocks).
fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(md) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = slug(&line[hashes..]);
            let mut id = base.clone();
            let mut n = 1;
            while seen.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            seen.insert(id);
        }
    }
    seen
}

/// The targets of the inline links `[text](target)` outside code.
fn links(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(md) {
        // Drop inline code spans.
        let mut text = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                text.push_str(part);
            }
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

fn summary_links() -> Vec<String> {
    let summary = fs::read_to_string(repo().join("docs/src/SUMMARY.md")).unwrap();
    links(&summary)
}

fn check_link(from: &Path, target: &str) -> Result<(), String> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(());
    }
    let (path, fragment) = match target.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        from.to_path_buf()
    } else {
        from.parent().unwrap().join(path)
    };
    if !file.exists() {
        return Err(format!("{target}: {} does not exist", file.display()));
    }
    let book = repo().join("docs/src");
    if from.starts_with(&book) {
        let inside = fs::canonicalize(&file)
            .unwrap()
            .starts_with(fs::canonicalize(&book).unwrap());
        if !inside {
            return Err(format!(
                "{target}: a book page links outside docs/src (mdBook would not render it); \
                 name the repository file in `code` instead"
            ));
        }
    }
    if let Some(fragment) = fragment {
        if file.extension().is_none_or(|e| e != "md") {
            return Err(format!(
                "{target}: a #fragment into a file that is not Markdown"
            ));
        }
        let md = fs::read_to_string(&file).unwrap();
        if !anchors(&md).contains(fragment) {
            return Err(format!(
                "{target}: no heading with the anchor #{fragment} in {}",
                rel(&file)
            ));
        }
    }
    Ok(())
}

#[test]
fn links_between_the_readme_and_the_book_resolve() {
    let mut files = doc_files();
    files.push(repo().join("docs/src/SUMMARY.md"));
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in &files {
        let md = fs::read_to_string(file).unwrap();
        for target in links(&md) {
            checked += 1;
            if let Err(e) = check_link(file, &target) {
                broken.push(format!("{}: {e}", rel(file)));
            }
        }
    }
    assert!(checked >= 50, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_summary_lists_every_page_of_the_book() {
    let listed: BTreeSet<String> = summary_links().into_iter().collect();
    let pages: BTreeSet<String> = fs::read_dir(repo().join("docs/src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md")
        .collect();
    assert_eq!(listed, pages, "SUMMARY.md and docs/src/*.md differ");
    // The README's table of pages names them all too.
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    for page in &pages {
        assert!(
            readme.contains(&format!("(docs/src/{page})")),
            "README.md does not link docs/src/{page}"
        );
    }
}

/// Every alert names a runbook section that exists (README.md or a book page).
#[test]
fn the_alert_rules_runbook_links_resolve() {
    let rules = fs::read_to_string(repo().join("contrib/prometheus/ssot-alerts.yml")).unwrap();
    let alerts = rules
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count();
    let mut links = 0;
    for line in rules.lines() {
        let l = line.trim_start();
        if !(l.starts_with("runbook:") || l.starts_with("runbook_url:")) {
            continue;
        }
        let value = l.split_once(':').unwrap().1.trim().trim_matches('"');
        // The shipped default: the page as the Debian package installs it.
        let installed = value
            .strip_prefix("file:///usr/share/doc/ssot/")
            .map(|page| format!("docs/src/{page}"));
        let value = installed.as_deref().unwrap_or(value);
        let at = value
            .find("docs/src/")
            .or_else(|| value.find("README.md"))
            .unwrap_or_else(|| panic!("a runbook link names no documentation page: {line}"));
        let target = &value[at..];
        assert!(
            target.contains('#'),
            "a runbook link without a section: {line}"
        );
        check_link(&repo().join("README.md"), target).unwrap_or_else(|e| panic!("{line}: {e}"));
        links += 1;
    }
    assert!(alerts > 0);
    assert_eq!(links, alerts, "every alert has a runbook link");
}

#[test]
fn the_book_builds_with_mdbook_when_it_is_installed() {
    let have = Command::new("sh")
        .args(["-c", "command -v mdbook"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("SKIPPED: mdbook is not on PATH (cargo install mdbook to check the build)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("mdbook")
        .arg("build")
        .arg(repo().join("docs"))
        .arg("--dest-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.path().join("index.html").exists());
}

#[test]
fn the_exit_annotation_is_parsed_as_documented() {
    assert_eq!(
        expected_exit("ssot gate backup  # exit 1: denied"),
        Some(("ssot gate backup", vec![1]))
    );
    assert_eq!(
        expected_exit("ssot report # exit 1|2: DEGRADED"),
        Some(("ssot report", vec![1, 2]))
    );
    assert_eq!(expected_exit("ssot demo   # the main job"), None);
    let script = runnable("false # exit 1\ntrue\nfalse \\\n  x # exit 1\n");
    let (code, _) = run_bounded({
        let mut c = Command::new("bash");
        c.args(["-c", &script]);
        c
    });
    assert_eq!(code, Some(0));
    // A wrong exit code, or an unannotated failure, fails the block.
    for text in ["true # exit 1\n", "false\n", "exit 2 # exit 0|1\n"] {
        let (code, out) = run_bounded({
            let mut c = Command::new("bash");
            c.args(["-c", &runnable(text)]);
            c
        });
        assert_ne!(code, Some(0), "{text}: {out}");
    }
    assert_eq!(slug("WAL NEAR_LIMIT or ERROR"), "wal-near_limit-or-error");
    assert_eq!(
        slug("Embedding `ssot-core` (Rust)"),
        "embedding-ssot-core-rust"
    );
}

/// The metric reference in docs/src/report.md is the table generated from the
/// metrics' declarations (`SSOT_BLESS=1` rewrites it).
#[test]
fn the_metric_reference_is_generated_from_the_declarations() {
    use ssot_core::report::metrics::{reference_markdown, REFERENCE_BEGIN, REFERENCE_END};
    let path = repo().join("docs/src/report.md");
    let page = fs::read_to_string(&path).unwrap();
    let generated = format!(
        "{REFERENCE_BEGIN}\n{}{REFERENCE_END}\n",
        reference_markdown()
    );
    let (start, end) = match (page.find(REFERENCE_BEGIN), page.find(REFERENCE_END)) {
        (Some(s), Some(e)) if s < e => (s, e + REFERENCE_END.len() + 1),
        _ => panic!(
            "{}: no generated metric table between its markers",
            rel(&path)
        ),
    };
    if std::env::var_os("SSOT_BLESS").is_some() {
        let blessed = format!("{}{generated}{}", &page[..start], &page[end..]);
        fs::write(&path, blessed).unwrap();
        return;
    }
    assert_eq!(
        &page[start..end],
        generated,
        "{}: the metric table differs from the declarations; run `SSOT_BLESS=1 cargo test --test docs the_metric_reference`",
        rel(&path)
    );
    // One row per declared metric, under the header and its rule.
    assert_eq!(
        reference_markdown().lines().count(),
        ssot_core::report::metrics::declarations().len() + 2
    );
}

/// The retention policy table in `docs/src/retention.md` is the one
/// `ssot_core::retention::knobs::reference_markdown()` renders from the
/// knobs' declaration (`SSOT_BLESS=1` rewrites it).
#[test]
fn the_retention_policy_table_is_generated_from_the_knobs() {
    use ssot_core::retention::knobs::{reference_markdown, REFERENCE_BEGIN, REFERENCE_END};
    let path = repo().join("docs/src/retention.md");
    let page = fs::read_to_string(&path).unwrap();
    let generated = format!(
        "{REFERENCE_BEGIN}\n{}{REFERENCE_END}\n",
        reference_markdown()
    );
    let (start, end) = match (page.find(REFERENCE_BEGIN), page.find(REFERENCE_END)) {
        (Some(s), Some(e)) if s < e => (s, e + REFERENCE_END.len() + 1),
        _ => panic!(
            "{}: no generated policy table between its markers",
            rel(&path)
        ),
    };
    if std::env::var_os("SSOT_BLESS").is_some() {
        let blessed = format!("{}{generated}{}", &page[..start], &page[end..]);
        fs::write(&path, blessed).unwrap();
        return;
    }
    assert_eq!(
        &page[start..end],
        generated,
        "{}: the policy table differs from the knobs' declaration; run `SSOT_BLESS=1 cargo test --test docs the_retention_policy_table`",
        rel(&path)
    );
    // One row per knob, under the header and its rule, each naming its key.
    let table = reference_markdown();
    assert_eq!(table.lines().count(), ssot_core::retention::KNOBS.len() + 2);
    for (row, knob) in table.lines().skip(2).zip(ssot_core::retention::KNOBS) {
        assert!(row.starts_with(&format!("| `{}` |", knob.name)), "{row}");
    }
}
