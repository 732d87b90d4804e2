#!/usr/bin/env bash
# Deliberately broken routers: each mutant is a sed edit of the exported
# rtl/chip_tiny.v; the whole-chip checks (cosim/src/chip_check.rs) must
# catch it. Prints after how many generated topology cases each is caught.
# Build output stays in target/ (only chip_tiny is re-verilated).
#
#   scripts/chip_mutants.sh
#   PROPTEST_CASES=200 scripts/chip_mutants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=rtl/chip_tiny.v

# name | sed expression (applied to the tiny chip)
mutants=(
  'monitor copy after pooling (core 0)|s/^        rq_pl\$0 = st_w\$0\$q;/        rq_pl$0 = (st_w$0$q \& 47'"'"'h7fff_c000_ffff) | (px$0 << 23) | (py$0 << 16);/'
  'host output FIFO overrun: events lost under backpressure|s/if (~hfifo\$full \&\& rq_valid/if (rq_valid/g'
  'feature_shift ignored (core 0)|s/pc\$0 = ((st_w\$0\$q >> 32'"'"'h1e) \& 32'"'"'h7ff) + (dcfg\$0 \& 32'"'"'h3ff);/pc$0 = ((st_w$0$q >> 32'"'"'h1e) \& 32'"'"'h7ff);/'
  'core 1 input FIFO overrun: events lost under backpressure|s/if (~leak_go \&\& ~fifo\$1\$full \&\& /if (~leak_go \&\& /g'
  'arbiter of core 0 takes events core 2 sends elsewhere (== became !=)|s/(rq_tgt\$2 == idx\$0)/(rq_tgt$2 != idx$0)/g'
  'destination-shape lookup of core 0 -> core 0 inverted|s/if (dlayer\$0 == idx\$0) begin/if (dlayer$0 != idx$0) begin/'
  'leak loop steps f by 2 (floods outputs, never ends)|/if (~lx_end) begin/,/if (last) begin/ s/s_f\$d = s_f\$q + 32'"'"'h1;/s_f$d = s_f$q + 32'"'"'h2;/'
)
# MUTANTS=REGEX keeps only the mutants whose name matches (grep -E).
if [ -n "${MUTANTS:-}" ]; then
  keep=()
  for m in "${mutants[@]}"; do
    if grep -qE -- "$MUTANTS" <<< "${m%%|*}"; then keep+=("$m"); fi
  done
  mutants=("${keep[@]}")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in "${mutants[@]}"; do
  name=${m%%|*}; expr=${m#*|}
  mkdir -p "$work/rtl"; rm -f "$work/rtl"/*
  cp rtl/verilator.waivers rtl/chip_tiny.ports.json "$work/rtl/"
  sed "$expr" "$src" > "$work/rtl/chip_tiny.v"
  if cmp -s "$src" "$work/rtl/chip_tiny.v"; then
    echo "mutant '$name': sed expression matched nothing; fix the script"; exit 2
  fi
  echo "== mutant: $name"
  diff "$src" "$work/rtl/chip_tiny.v" | sed 's/^/   /' | head -4 || true
  SPIKEHDL_RTL_DIR="$work/rtl" SPIKEHDL_VERILATE=chip_tiny \
    cargo test -q --release -p spikehdl-testbenches --test chip_mutants -- --ignored --nocapture 2>/dev/null | grep MUTANT-RESULT || echo "   (build or run failed)"
done
echo "== unmodified RTL"
SPIKEHDL_VERILATE=chip_tiny cargo test -q --release -p spikehdl-testbenches --test chip_mutants -- --ignored --nocapture 2>/dev/null | grep MUTANT-RESULT
