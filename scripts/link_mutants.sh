#!/usr/bin/env bash
# Deliberately broken host links: each mutant is a sed edit of the exported
# rtl/board_icebreaker.v; the pin-level tests (testbenches/tests/board_pins.rs,
# icebreaker tests) must fail on each. Prints which tests catch each mutant.
# Build output stays in target/ (only board_icebreaker is re-verilated).
#
#   scripts/link_mutants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=rtl/board_icebreaker.v

# name | sed expression
mutants=(
  'chip output popped even when no frame is loaded: outputs lost under backpressure|s/^        out_ready = 1'"'"'b0;/        out_ready = out_valid;/'
  'no queue-full check: a frame beyond the credits overwrites the queue|s/if (cnt\$q == 32'"'"'h100) begin/if (1'"'"'b0) begin/'
  'transmit byte taken without the UART being ready: bytes dropped under backpressure|s/byte_done = f_busy\$q \&\& tx_ready \&\& /byte_done = f_busy$q \&\& /'
  'no escaping on transmit: END/ESC bytes inside a body|s/need_esc = ~delim \&\& /need_esc = 1'"'"'b0 \&\& /'
)
if [ -n "${MUTANTS:-}" ]; then IFS=';' read -r -a mutants <<< "$MUTANTS"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for m in "${mutants[@]}"; do
  name=${m%%|*}; expr=${m#*|}
  mkdir -p "$work/rtl"; rm -f "$work/rtl"/*
  cp rtl/verilator.waivers "$work/rtl/"
  sed "$expr" "$src" > "$work/rtl/board_icebreaker.v"
  if cmp -s "$src" "$work/rtl/board_icebreaker.v"; then
    echo "mutant '$name': sed expression matched nothing; fix the script"; exit 2
  fi
  echo "== mutant: $name"
  diff "$src" "$work/rtl/board_icebreaker.v" | sed 's/^/   /' | head -4 || true
  out=$(SPIKEHDL_RTL_DIR="$work/rtl" SPIKEHDL_VERILATE=board_icebreaker \
    cargo test -q --release -p spikehdl-testbenches --test board_pins -- --skip ulx3s 2>&1 || true)
  failed=$(echo "$out" | grep -E '^    [a-z_]+$' | sort -u | tr '\n' ' ' || true)
  if [ -n "$failed" ]; then
    echo "   caught by: $failed"
  else
    echo "   NOT CAUGHT"; echo "$out" | tail -5; status=1
  fi
done
echo "== unmodified RTL"
SPIKEHDL_VERILATE=board_icebreaker cargo test -q --release -p spikehdl-testbenches --test board_pins -- --skip ulx3s 2>&1 | grep "test result"
exit $status
