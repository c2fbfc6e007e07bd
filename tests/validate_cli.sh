#!/bin/sh
# `stepsim validate` end to end on a few small rows of the published-runs file: the JSON contract,
# the signed error recomputed here from measured and predicted, the verdict check, CSV order and
# byte-identical output whatever -j is, a prediction that does not move when measured_value does,
# and usage errors (exit 2).
# Usage: validate_cli.sh STEPSIM SOURCE_DIR
set -u
stepsim="$1"; src="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
csv="$src/tests/data/published-runs.csv"
rows=torchtune31-r2,torchtune31-r1,unsloth-r1,litgpt-r4,torchtune31-r15
fail=0
"$stepsim" validate "$csv" --rows "$rows" --json -j 1 >"$tmp/j1.json" || { echo "FAIL: validate -j 1 exited $?"; fail=1; }
"$stepsim" validate "$csv" --rows "$rows" --json -j 3 >"$tmp/j3.json" || { echo "FAIL: validate -j 3 exited $?"; fail=1; }
cmp -s "$tmp/j1.json" "$tmp/j3.json" || { echo "FAIL: -j 1 and -j 3 give different output"; fail=1; }
# The same rows with every measured_value doubled: predictions must not change.
python3 - "$csv" "$tmp/doubled.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    for r in rows:
        r["measured_value"] = str(2 * float(r["measured_value"]))
        w.writerow(r)
PY
"$stepsim" validate "$tmp/doubled.csv" --rows "$rows" --json -j 2 >"$tmp/doubled.json" || { echo "FAIL: doubled"; fail=1; }
python3 - "$tmp/j1.json" "$tmp/doubled.json" <<'PY' || fail=1
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
ids = [r["id"] for r in a["rows"]]
if ids != ["torchtune31-r1", "torchtune31-r2", "torchtune31-r15", "litgpt-r4", "unsloth-r1"]:
    bad.append(f"rows not in CSV order: {ids}")
for r, d in zip(a["rows"], b["rows"]):
    if list(r.keys()) != ["id", "metric", "measured", "predicted", "error_pct", "correct", "tight", "status", "reason", "defaults"]:
        bad.append(f"{r['id']}: keys {list(r.keys())}")
    if r["status"] != "ok":
        bad.append(f"{r['id']}: {r['status']} {r['reason']}")
        continue
    if r["predicted"] != d["predicted"]:
        bad.append(f"{r['id']}: prediction moved with measured_value: {r['predicted']} vs {d['predicted']}")
    if r["metric"] in ("fits", "oom"):
        if r["error_pct"] is not None or not isinstance(r["correct"], bool):
            bad.append(f"{r['id']}: verdict row needs correct and no error_pct")
    else:
        want = (r["predicted"] - r["measured"]) / r["measured"] * 100
        if r["correct"] is not None or abs(r["error_pct"] - want) > 1e-9 * max(1, abs(want)):
            bad.append(f"{r['id']}: error_pct {r['error_pct']} != {want}")
        if r["tight"] is not False:
            bad.append(f"{r['id']}: only a fits/oom row can be tight")
s = a["summary"]
if s["rows"] != 5 or s["memory"]["count"] != 2 or s["throughput"]["count"] != 1 or s["verdicts"]["verdicts"] != 2:
    bad.append(f"summary counts: {json.dumps(s)[:300]}")
m = [abs(r["error_pct"]) for r in a["rows"] if r["metric"].startswith("peak_mem")]
if abs(s["memory"]["mape"] - sum(m) / len(m)) > 1e-9 or abs(s["memory"]["max"] - max(m)) > 1e-9:
    bad.append("memory MAPE/max differ from the rows")
for line in bad:
    print("FAIL:", line)
sys.exit(1 if bad else 0)
PY
"$stepsim" validate "$csv" --rows torchtune31-r1 >"$tmp/text" || { echo "FAIL: text output exited $?"; fail=1; }
grep -q "torchtune31-r1" "$tmp/text" && grep -q "defaults applied" "$tmp/text" && grep -q "by source" "$tmp/text" ||
  { echo "FAIL: text output lacks the row, the defaults or the summaries"; cat "$tmp/text"; fail=1; }
"$stepsim" validate "$csv" --rows no-such-row >"$tmp/out" 2>&1; code=$?
[ "$code" -eq 2 ] && grep -q "no row with id 'no-such-row'" "$tmp/out" || { echo "FAIL: unknown --rows id: exit $code"; cat "$tmp/out"; fail=1; }
printf 'id,measured_metric,measured_value\nr1,step_time_s,"unterminated\n' >"$tmp/bad.csv"
"$stepsim" validate "$tmp/bad.csv" >"$tmp/out" 2>&1; code=$?
[ "$code" -eq 2 ] && grep -q "bad.csv" "$tmp/out" || { echo "FAIL: malformed CSV: exit $code"; cat "$tmp/out"; fail=1; }
"$stepsim" validate "$tmp/missing.csv" >"$tmp/out" 2>&1; code=$?
[ "$code" -eq 2 ] || { echo "FAIL: missing file: exit $code"; cat "$tmp/out"; fail=1; }
# --timeout: a row still simulating is killed and skipped with the reason (not failed).
"$stepsim" validate "$csv" --rows torchtune31-r1 --timeout 0.001 --json >"$tmp/slow" || { echo "FAIL: --timeout exited $?"; fail=1; }
grep -q 'took longer than --timeout 0.001 s' "$tmp/slow" || { echo "FAIL: --timeout reason missing"; cat "$tmp/slow"; fail=1; }
exit $fail
