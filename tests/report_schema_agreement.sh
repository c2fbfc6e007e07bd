#!/bin/sh
# docs/report-schema.md and `stepsim run --json` agree: every key a report emits is documented
# in a field table of "## Fields", every documented field is emitted by at least one of the runs
# below (one that fits, one out of memory with fixes, a pipeline-parallel one), --no-engine drops
# exactly the fields the Conventions list, and the "## CSV" column list is the --csv header.
# Field-table syntax: `a.b` `.c` (siblings of a.b), `a.*` (any key under a), `a[].b` (each
# element of the array a), `a` of type array of strings/numbers (a list of scalars).
stepsim="$1"; src="$2"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
run() {  # run NAME SCENARIO [args...]: the JSON report into $tmp/NAME.json
  name="$1"; shift
  "$stepsim" run "$@" --json > "$tmp/$name.json" || { echo "FAIL: stepsim run $* --json"; exit 1; }
}
run fits "$src/scenarios/llama3-70b-lora-rtx-pro-6000.json"
run oom "$src/scenarios/llama3-70b-full-zero3-rtx-pro-6000.json"
run pp "$src/scenarios/gpt-8gpu-h100-pcie.json" --set training.pp=2 --set training.dp=2
run no_engine "$src/scenarios/llama3-70b-lora-rtx-pro-6000.json" --no-engine
"$stepsim" run "$src/scenarios/gpt-8gpu-h100-pcie.json" --csv > "$tmp/run.csv" || { echo "FAIL: --csv"; exit 1; }
python3 - "$src/docs/report-schema.md" "$tmp" <<'PY'
import csv, json, re, sys
doc, tmp = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
failures = []

def section(title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    if not m:
        sys.exit(f"FAIL: no section '## {title}' in the document")
    return m.group(1)

# Documented fields: first cells of the tables whose header starts with "| field |".
documented, scalar_lists = set(), set()
table = False
for line in section("Fields").splitlines():
    if line.startswith("| field |"):
        table = True
        continue
    if not line.startswith("|"):
        table = False
        continue
    if not table or line.startswith("|---"):
        continue
    cells = [c.strip() for c in line.strip("|").split("|")]
    names = re.findall(r"`([^`]+)`", cells[0])
    base = None
    for n in names:
        if n.startswith(".") and base:
            path = base.rsplit(".", 1)[0] + n
        else:
            path = base = n
        documented.add(path)
        if cells[1].startswith("array of"):
            scalar_lists.add(path)

def emitted(value, prefix=""):
    """Leaf paths of a report: objects recurse, arrays of objects become name[].key."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= emitted(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        for x in value:
            out |= emitted(x, prefix + "[]")
    else:
        out.add(prefix)
    return out

def covered(path):
    """The documented entry that describes an emitted path, or None."""
    if path in documented:
        return path
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        if head + ".*" in documented:
            return head + ".*"
        if head in scalar_lists or head in documented and path.startswith(head + "[]"):
            return head
    return None

reports = {n: json.load(open(f"{tmp}/{n}.json")) for n in ("fits", "oom", "pp", "no_engine")}
used = set()
for name, report in reports.items():
    if report.get("schema") != "stepsim.report/1":
        failures.append(f"{name}: schema is {report.get('schema')!r}")
    for path in sorted(emitted(report)):
        entry = covered(path)
        if entry is None:
            failures.append(f"{name}: emitted but not documented: {path}")
        else:
            used.add(entry)
for path in sorted(documented - used):
    # A parent documented next to its children (e.g. `memory.fixes` and `memory.fixes[].change`).
    if any(u.startswith(path + ".") or u.startswith(path + "[]") for u in used):
        continue
    failures.append(f"documented but emitted by none of the runs: {path}")
if not reports["oom"]["memory"]["oom"] or not reports["oom"]["memory"]["fixes"]:
    failures.append("the OOM run is not out of memory with fixes")
if reports["pp"]["parallelism"]["pp"] < 2:
    failures.append("the pipeline run has pp < 2")

# --no-engine drops exactly the fields the Conventions name.
conv = re.search(r"\*\*`--no-engine`\*\*(.*?)Every other field", section("Conventions"), re.S)
listed = set(re.findall(r"`([^`]+)`", conv.group(1))) if conv else set()
dropped = set(reports["fits"]) - set(reports["no_engine"])
if listed != dropped:
    failures.append(f"--no-engine drops {sorted(dropped)} but the Conventions list {sorted(listed)}")

# The CSV header is the documented column list, in order.
csv_doc = re.findall(r"^\| *\d+ *\| *`([^`]+)`", section("CSV"), re.M) if "\n## CSV\n" in doc else []
rows = list(csv.reader(open(f"{tmp}/run.csv", newline="")))
if len(rows) != 2:
    failures.append(f"--csv printed {len(rows)} rows, expected a header and one row")
elif rows[0] != csv_doc:
    failures.append(f"--csv header {','.join(rows[0])} differs from the documented columns {','.join(csv_doc)}")
elif len(rows[1]) != len(csv_doc) or not rows[1][csv_doc.index("step_time_s")]:
    failures.append(f"--csv row {rows[1]} has not one cell per column, or no step time")

print(f"{len(documented)} documented fields, {len(used)} matched by the runs, {len(csv_doc)} CSV columns")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
