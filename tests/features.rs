//! The CLI without its optional features: `cargo install` on a machine
//! without Verilator or HDF5 must still give check, simulate, eval and plot.
//! The commands that need a feature say what to install
//! (`src/cmd/mod.rs` `Feature`, unit-tested there).

use std::process::Command;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// The packages the `spikehdl` binary links, for the given feature flags.
fn dependency_names(flags: &[&str]) -> Vec<String> {
    let out = cargo()
        .args(["tree", "--locked", "-p", "spikehdl", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .args(flags)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect()
}

// What needs Verilator (the sim crate's build script verilates rtl/, bindgen
// needs libclang) or HDF5.
const NEEDS_TOOLS: &[&str] = &["spikehdl-sim", "spikehdl-cosim", "spikehdl-testbenches", "spikehdl-nir", "hdf5-metno", "hdf5-metno-sys", "bindgen"];

#[test]
fn without_default_features_nothing_needs_verilator_or_hdf5() {
    let full = dependency_names(&[]);
    for p in ["spikehdl-sim", "spikehdl-nir"] {
        assert!(full.iter().any(|d| d == p), "the default build should include {p}: {full:?}");
    }
    let bare = dependency_names(&["--no-default-features"]);
    assert!(bare.iter().any(|d| d == "spikehdl-model"), "{bare:?}");
    let bad: Vec<&String> = bare.iter().filter(|d| NEEDS_TOOLS.contains(&d.as_str())).collect();
    assert!(bad.is_empty(), "--no-default-features still depends on {bad:?}");
}

/// Compiles the binary without features (2 min 36 s on the idle 2-core VM,
/// 4.7 CPU-minutes, in a fresh target directory, so opt-in:
/// `cargo test --release --test features -- --ignored`).
#[test]
#[ignore = "compiles the CLI a second time (several minutes)"]
fn the_cli_compiles_without_default_features() {
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-default-features");
    let out = cargo()
        .args(["check", "--locked", "--no-default-features", "--bin", "spikehdl"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo check runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
