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
