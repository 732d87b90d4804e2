#!/usr/bin/env bash
# Deliberate RTL bugs: each mutant is a one-line edit of the exported tiny
# core; the equivalence generator must catch it. Prints after how many
# generated cases each one is caught. Build output stays in target/.
#
#   scripts/mutants.sh            # all mutants
#   PROPTEST_CASES=500 scripts/mutants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=rtl/layer_core_tiny.v

# name | sed expression (applied to the tiny core)
mutants=(
  'spike on > instead of >=|s/spike = s_biased >= th_biased;/spike = s_biased > th_biased;/'
  'wrap instead of saturate|s/if (sum_b16 != sum_b15) begin/if (1'"'"'b0) begin/'
  'padding off by one (x)|s/ax = ((in_x) \& 8'"'"'hff) + ((r_pad_x\$q) \& 8'"'"'hff);/ax = ((in_x) \& 8'"'"'hff) + ((r_pad_x$q) \& 8'"'"'hff) + 8'"'"'h1;/'
  'no distance-2 forwarding (fw_data -> M1)|s/fwd = m_fwd\$q;/fwd = 1'"'"'b0;/'
  'no distance-1 forwarding (M2 -> M1)|s/fwd1 = m_fwd1\$q;/fwd1 = 1'"'"'b0;/'
  'zero weights not skipped|s/do_upd = is_upd \&\& m2_wnz\$q;/do_upd = is_upd;/'
  'no threshold_low floor|s/lo_s = s_biased < tl_biased;/lo_s = 1'"'"'b0;/'
  'no threshold_low floor after subtract|s/lo_sub = s17_biased < r_thsum_b\$q;/lo_sub = 1'"'"'b0;/'
  'output queue count not reset (only a random power-up shows it)|s/^            q_count\$d = 32'"'"'h0;$//'
  'error counter not reset (only a random power-up shows it)|s/^            err\$d = 32'"'"'h0;$//'
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
  cp rtl/verilator.waivers rtl/layer_core_tiny.ports.json "$work/rtl/"
  sed "$expr" "$src" > "$work/rtl/layer_core_tiny.v"
  if cmp -s "$src" "$work/rtl/layer_core_tiny.v"; then
    echo "mutant '$name': sed expression matched nothing; fix the script"; exit 2
  fi
  echo "== mutant: $name"
  diff "$src" "$work/rtl/layer_core_tiny.v" | sed 's/^/   /' | head -6 || true
  SPIKEHDL_RTL_DIR="$work/rtl" SPIKEHDL_VERILATE=layer_core_tiny \
    cargo test -q --release -p spikehdl-testbenches --test mutants -- --ignored --nocapture 2>/dev/null | grep MUTANT-RESULT || echo "   (build or run failed)"
done
echo "== unmodified RTL"
SPIKEHDL_VERILATE=layer_core_tiny cargo test -q --release -p spikehdl-testbenches --test mutants -- --ignored --nocapture 2>/dev/null | grep MUTANT-RESULT
