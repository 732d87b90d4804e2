//! The Python package (`python/`) as its users get it: `pip install ./python`
//! into the project's git-ignored venv `.venv-python/` (made by
//! `scripts/setup.sh` with the test requirements), then its pytest suite,
//! which compares every result with this build's CLI. A failed install, a
//! failed test or a skipped one fails here.
//!
//! The package is its own cargo workspace (maturin builds it, the workspace
//! does not); its build goes to `target/python/` so that it never waits for
//! the lock of the build running this test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin() -> PathBuf {
    repo().join(".venv-python").join("bin")
}

/// `target/` of this build (the CLI binary is `target/<profile>/spikehdl`).
fn target_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_spikehdl"));
    exe.parent().and_then(Path::parent).expect("the binary sits in target/<profile>/").to_path_buf()
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn pip_install_then_pytest_passes_with_nothing_skipped() {
    let python = venv_bin().join("python");
    assert!(python.exists(), "{} is missing: run ./scripts/setup.sh (it makes the venv with the package's test requirements)", python.display());
    let path = format!("{}:{}", venv_bin().display(), std::env::var("PATH").unwrap_or_default());
    // No build isolation: maturin comes from the venv, so the install needs no download.
    let o = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-build-isolation", "--no-deps", "--force-reinstall", "./python"])
        .current_dir(repo())
        .env("PATH", &path)
        .env("SPIKEHDL_NIR", "1")
        .env("CARGO_TARGET_DIR", target_dir().join("python"))
        .output()
        .expect("run pip");
    assert!(o.status.success(), "pip install ./python failed:\n{}", text(&o));
    let o = Command::new(&python)
        .args(["-m", "pytest", "python/tests", "-q", "-rs", "-p", "no:cacheprovider"])
        .current_dir(repo())
        .env("PATH", &path)
        .env("SPIKEHDL_CLI", env!("CARGO_BIN_EXE_spikehdl"))
        .env("SPIKEHDL_EXPECT_NIR", "1")
        .output()
        .expect("run pytest");
    let out = text(&o);
    println!("{out}");
    assert!(o.status.success(), "pytest failed:\n{out}");
    let summary = out.lines().rev().find(|l| l.contains(" passed")).unwrap_or_default();
    assert!(!summary.contains("skipped") && !summary.contains("deselected"), "tests were skipped: {summary}");
    let passed: usize = summary.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or(0);
    assert!(passed >= 50, "only {passed} tests ran: {summary}");
}

/// The packages the Python extension links, for the given feature flags.
fn python_dependencies(flags: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(cargo)
        .args(["tree", "--locked", "--manifest-path", "python/Cargo.toml", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .args(flags)
        .current_dir(repo())
        .output()
        .expect("cargo tree runs");
    assert!(o.status.success(), "cargo tree failed: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect()
}

#[test]
fn the_default_python_build_needs_no_hdf5_and_the_nir_feature_brings_it() {
    let plain = python_dependencies(&[]);
    assert!(plain.iter().any(|p| p == "spikehdl-model") && plain.iter().any(|p| p == "pyo3"), "{plain:?}");
    for p in ["spikehdl-nir", "hdf5-metno", "hdf5-metno-sys", "bindgen", "spikehdl-sim"] {
        assert!(!plain.iter().any(|d| d == p), "the model-only Python build links {p}");
    }
    let nir = python_dependencies(&["--features", "nir"]);
    assert!(nir.iter().any(|p| p == "hdf5-metno-sys"), "{nir:?}");
}
