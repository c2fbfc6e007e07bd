#!/bin/sh
# Traces of shipped scenarios pass tools/check_trace.py (Perfetto's importer rules), carry what
# the scenario implies (threads, flows, counters), are byte-identical on a second run, and the
# timeline SVG parses as XML with one lane per traced rank and stream.
#   trace_checks.sh STEPSIM SRC CASE      CASE: tp-dp | pp | zero3 | usage | negative
stepsim="$1"; src="$2"; case="$3"
check="python3 $src/tools/check_trace.py"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

run_twice() {  # run_twice SCENARIO TRACE SVG ARGS...: both runs must give the same bytes
  scenario="$1"; trace="$2"; svg="$3"; shift 3
  "$stepsim" run "$src/scenarios/$scenario.json" "$@" --trace "$work/$trace" --timeline-svg "$work/$svg" >/dev/null \
    || fail "run $scenario"
  "$stepsim" run "$src/scenarios/$scenario.json" "$@" --trace "$work/again-$trace" --timeline-svg "$work/again-$svg" \
    >/dev/null || fail "second run $scenario"
  cmp -s "$work/$trace" "$work/again-$trace" || fail "$trace differs between two runs"
  cmp -s "$work/$svg" "$work/again-$svg" || fail "$svg differs between two runs"
}

svg_lanes() {  # svg_lanes FILE EXPECTED-LANES...: the lanes (rank/stream) must be exactly these
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
lanes = sorted(f"{g.get('data-rank')}/{g.get('data-stream')}" for g in root.iter(ns + "g") if g.get("class") == "lane")
want = sorted(sys.argv[2:])
for g in root.iter(ns + "g"):
    if g.get("class") == "lane" and not g.findall(ns + "rect"):
        sys.exit(f"lane {g.get('data-rank')}/{g.get('data-stream')} has no bars")
legend = [t.text for t in root.iter(ns + "text")]
if "critical path" not in legend or not any(t and t.startswith("time since the step started (") for t in legend):
    sys.exit("legend or time axis missing")
if lanes != want:
    sys.exit(f"lanes {lanes}, expected {want}")
print(f"{sys.argv[1]}: {len(lanes)} lanes")
PY
}

case "$case" in
  tp-dp)  # TP2 × DP4 with ZeRO-1 on PCIe: TP and DP streams, link counters, the critical path
    run_twice gpt-8gpu-h100-pcie t.json t.svg --set training.global_batch=16 || exit 1
    $check "$work/t.json" --require-thread compute --require-thread comm-tp --require-thread comm-dp \
      --require-process "node 0 · GPU 7 · h100-pcie-80gb" --require-process "critical path" \
      --require-counter "memory GiB" --min-flows 1 || exit 1
    lanes=""; for r in 0 1 2 3 4 5 6 7; do lanes="$lanes $r/compute $r/comm-tp $r/comm-dp"; done
    svg_lanes "$work/t.svg" $lanes ;;
  pp)  # GPT-3 175B TP8 × PP8 on 8 DGX A100: pipeline flows and transfers between the traced stages
    run_twice gpt3-175b-megatron-dgx-a100 pp.json.gz pp.svg --set training.global_batch=8 \
      --trace-ranks 0,8,16,24,32,40,48,56 || exit 1
    $check "$work/pp.json.gz" --require-thread comm-pp --require-process "node 7 · GPU 0" --min-flows 20 \
      --min-async 20 || exit 1
    lanes=""; for r in 0 8 16 24 32 40 48 56; do lanes="$lanes $r/compute $r/comm-tp $r/comm-pp"; done
    svg_lanes "$work/pp.svg" $lanes ;;
  zero3)  # Llama 3 70B ZeRO-3 on 8 RTX PRO 6000: parameter gathers and gradient reduce-scatters
    run_twice llama3-70b-full-zero3-rtx-pro-6000 z3.json.gz z3.svg --set training.global_batch=8 --trace-ranks 0-3 \
      || exit 1
    $check "$work/z3.json.gz" --require-thread comm-dp --require-counter "memory GiB" --min-flows 1 || exit 1
    python3 - "$work/z3.json.gz" <<'PY' || exit 1
import gzip, json, sys
events = json.load(gzip.open(sys.argv[1], "rt"))["traceEvents"]
names = {e["name"] for e in events if e["ph"] == "X" and e.get("tid") == 3}
for want in ("all_gather dp_shard", "reduce_scatter dp_shard"):
    if want not in names:
        sys.exit(f"no '{want}' slice on comm-dp: {sorted(names)}")
pids = sorted({e["pid"] for e in events if e["ph"] == "X" and e["pid"] <= 8})
if pids != [1, 2, 3, 4]:
    sys.exit(f"--trace-ranks 0-3 should give pids 1-4, got {pids}")
PY
    # The memory counters walk the ops in recorded time, the report's timeline in program order:
    # both must find the same device peak on the peak rank.
    "$stepsim" run "$src/scenarios/llama3-70b-full-zero3-rtx-pro-6000.json" --set training.global_batch=8 \
      --trace-ranks 0 --trace "$work/r0.json" --json > "$work/report.json" || fail "run with --json"
    python3 - "$work/r0.json" "$work/report.json" <<'PY' || exit 1
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
report = json.load(open(sys.argv[2]))
peak = max(e["args"]["total"] for e in events if e["ph"] == "C" and e["pid"] == 1) * 2 ** 30
want = report["memory"]["peak_bytes"]
print(f"trace peak {peak:.0f} B, report peak {want:.0f} B")
sys.exit(0 if abs(peak - want) <= 1e-6 * want else 1)
PY
    svg_lanes "$work/z3.svg" 0/compute 0/comm-dp 1/compute 1/comm-dp 2/compute 2/comm-dp 3/compute 3/comm-dp ;;
  usage)  # bad --trace-ranks and impossible combinations are usage errors (exit 2) before simulating
    for args in "--trace-ranks 0-8 --trace $work/x.json" "--trace-ranks 3-1 --trace $work/x.json" \
                "--trace-ranks a --trace $work/x.json" "--trace-ranks 0-3" "--no-engine --trace $work/x.json" \
                "--trace /nonexistent-dir/x.json"; do
      "$stepsim" run "$src/scenarios/gpt-8gpu-h100-pcie.json" --set training.global_batch=16 $args >/dev/null 2>"$work/err"
      status=$?
      [ "$status" -eq 2 ] || fail "'$args' exited $status, expected 2"
      grep -q -- "--trace" "$work/err" || fail "'$args': the error does not name the option: $(cat "$work/err")"
    done
    [ ! -e "$work/x.json" ] || fail "a trace was written despite the usage error"
    echo "usage errors ok" ;;
  negative)  # the checker rejects broken traces: hand-made ones and damaged copies of a real one
    "$stepsim" run "$src/scenarios/gpt-8gpu-h100-pcie.json" --set training.global_batch=16 --trace-ranks 0-1 \
      --trace "$work/t.json" >/dev/null || fail "run"
    python3 "$src/tests/check_trace_negative.py" "$src/tools" "$work/t.json" ;;
  *) fail "unknown case $case" ;;
esac
