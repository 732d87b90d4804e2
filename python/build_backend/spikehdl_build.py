"""PEP 517 build backend of the `spikehdl` package: maturin's, deciding the
`nir` cargo feature (NIR import, which links the HDF5 library).

`SPIKEHDL_NIR=1` builds with it (the build fails if HDF5 is missing),
`SPIKEHDL_NIR=0` without; unset, it is built exactly when HDF5 is found the
way the `hdf5-metno` crate finds it (`HDF5_DIR`, pkg-config, or hdf5.h in
the usual include folders), so that `pip install ./python` works on a
machine without HDF5 and gives NIR import on one with it. The choice is
printed; `spikehdl.FEATURES["nir"]` reports it at run time.

Inside the repository, cargo's build output goes to `target/python/` of
the workspace (git-ignored), not into the source tree, unless
CARGO_TARGET_DIR says otherwise.
"""

import os
import shutil
import subprocess
import sys

import maturin
from maturin import (  # noqa: F401  (the hooks this backend does not change)
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
)

_INCLUDE_DIRS = ["/usr/include/hdf5/serial", "/usr/include", "/usr/local/include", "/opt/homebrew/include", "/usr/local/opt/hdf5/include"]


def _hdf5():
    """Where HDF5 was found, or None."""
    if os.environ.get("HDF5_DIR"):
        return "HDF5_DIR"
    pc = shutil.which("pkg-config")
    if pc and subprocess.run([pc, "--exists", "hdf5"], check=False).returncode == 0:
        return "pkg-config hdf5"
    for d in _INCLUDE_DIRS:
        if os.path.exists(os.path.join(d, "hdf5.h")):
            return os.path.join(d, "hdf5.h")
    return None


def _settings(config_settings):
    args = list(maturin.get_maturin_pep517_args(config_settings))
    want = os.environ.get("SPIKEHDL_NIR", "auto").strip().lower()
    if want not in ("auto", "0", "1"):
        raise SystemExit(f"spikehdl build: SPIKEHDL_NIR={want!r} is not 0, 1 or auto")
    if want == "auto":
        found = _hdf5()
        nir = found is not None
        why = f"HDF5 found ({found})" if nir else "HDF5 not found; install libhdf5-dev (Debian) for Chip.from_nir"
    else:
        nir = want == "1"
        why = f"SPIKEHDL_NIR={want}"
    if nir and not any("nir" in a for a in args):
        args += ["--features", "nir"]
    print(f"spikehdl build: NIR import {'on' if nir else 'off'} ({why})", file=sys.stderr)
    repo = os.path.abspath(os.path.join(os.getcwd(), ".."))
    if "CARGO_TARGET_DIR" not in os.environ and os.path.exists(os.path.join(repo, "model", "Cargo.toml")):
        os.environ["CARGO_TARGET_DIR"] = os.path.join(repo, "target", "python")
    settings = dict(config_settings or {})
    settings.pop("build-args", None)
    settings["maturin.build-args"] = args
    return settings


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return maturin.build_wheel(wheel_directory, _settings(config_settings), metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return maturin.build_editable(wheel_directory, _settings(config_settings), metadata_directory)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, _settings(config_settings))
