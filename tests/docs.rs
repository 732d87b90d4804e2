//! The documentation's examples are real: the complete configuration example
//! in docs/config.md validates, and the README's commands name files that exist.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn config_doc_example_is_valid() {
    let doc = std::fs::read_to_string(root().join("docs/config.md")).unwrap();
    let start = doc.find("```json\n").expect("a ```json block in docs/config.md") + "```json\n".len();
    let len = doc[start..].find("```").expect("closing fence");
    let cfg = spikehdl_model::parse_and_validate(&doc[start..start + len]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.n_cores(), 3, "tiny preset");
    let l = cfg.layers[0].as_ref().unwrap();
    assert_eq!((l.f, l.w_out, l.h_out), (2, 2, 2));
    assert!(cfg.dvs.is_some());
}

#[test]
fn readme_starts_with_the_two_commands_and_ci_runs_the_second() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```sh\n").skip(1).map(|b| b.split("```").next().unwrap().trim()).collect();
    assert!(blocks.len() >= 2, "README needs the two commands");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let last = ci.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("set ")).last().unwrap();
    assert_eq!(last.trim(), blocks[1], ".ci/run must run the README's test command");
    for f in ["examples/dvs_3layer.json", "examples/dvs_3layer_events.csv", "scripts/setup.sh"] {
        assert!(blocks[0].contains(f), "main command uses {f}");
        assert!(root().join(f).exists(), "{f} exists");
    }
}

/// Every tracked source and script of the repository (via `git ls-files`;
/// `None` outside a git checkout, e.g. a crates.io tarball).
fn tracked(exts: &[&str]) -> Option<Vec<PathBuf>> {
    let out = std::process::Command::new("git").arg("-C").arg(root()).arg("ls-files").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let list = String::from_utf8(out.stdout).ok()?;
    Some(list.lines().filter(|f| exts.iter().any(|e| f.ends_with(e))).map(|f| root().join(f)).collect())
}

#[test]
fn nothing_reads_outside_the_repository() {
    let Some(files) = tracked(&[".rs", ".sh", ".py", "run"]) else { return };
    assert!(files.len() > 20, "git ls-files listed only {} files", files.len());
    // Built so that this file does not match itself.
    let needle = format!("../{}/", "shared");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).map(|s| s.contains(&needle)).unwrap_or(false))
        .collect();
    assert!(offenders.is_empty(), "these files read {needle}, which a clone alone lacks: {offenders:?}");
}

#[test]
fn proptest_seeds_are_replayed_beside_their_tests() {
    let Some(files) = tracked(&[".rs", ".proptest-regressions"]) else { return };
    // Opting out of proptest's default persistence (seed file beside the test,
    // replayed first) is how a committed seed silently stopped being read.
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        for bad in [concat!("FileFailurePersistence", "::Direct"), concat!("failure_persistence", ": None")] {
            assert!(!text.contains(bad), "{} sets `{bad}`: use the default persistence", f.display());
        }
    }
    for seeds in files.iter().filter(|f| f.extension().is_some_and(|e| e == "proptest-regressions")) {
        let test = seeds.with_extension("rs");
        let text = std::fs::read_to_string(&test)
            .unwrap_or_else(|_| panic!("{} has no test file {} to replay it", seeds.display(), test.display()));
        assert!(text.contains("proptest!"), "{} is not a proptest file, so {} is never replayed", test.display(), seeds.display());
    }
}
