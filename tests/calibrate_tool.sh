#!/bin/sh
# tools/calibrate.py writes efficiency files that stepsim still accepts: the scaled values land at
# the right paths (checked against s × the value before the fit, computed here), the fit citation
# keeps that value so a re-fit starts from it, values are capped at 1, and `stepsim check` passes.
# Usage: calibrate_tool.sh STEPSIM SOURCE_DIR
set -u
stepsim="$1"; src="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$src" "$tmp" <<'PY' || exit 1
import json, os, sys
src, tmp = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tools"))
import calibrate as c
bad = []
for fam in ("hopper", "ampere"):
    _, text, doc = c.load_family(fam)
    base = c.base_values(doc)
    if "gemm.max_efficiency.bf16" not in base or "attention.efficiency" not in base:
        bad.append(f"{fam}: scaled paths {sorted(base)}")
    values = c.scaled(base, 0.5)
    cites = {p: f"{c.FIT_PREFIX} test: half | before the fit: value {v0:g}; {orig}" for p, (v0, orig) in base.items()}
    out = c.render(text, values, cites)
    new = json.loads(c.strip_comments(out))
    want_bf16 = round(base["gemm.max_efficiency.bf16"][0] * 0.5, 4)
    if new["gemm"]["max_efficiency"]["bf16"] != want_bf16:
        bad.append(f"{fam}: bf16 {new['gemm']['max_efficiency']['bf16']} != {want_bf16}")
    if new["gemm"]["max_efficiency"]["fp32"] != doc["gemm"]["max_efficiency"]["fp32"]:
        bad.append(f"{fam}: fp32 (CUDA cores) must not be scaled")
    if new["attention"]["efficiency"] != round(base["attention.efficiency"][0] * 0.5, 4):
        bad.append(f"{fam}: attention not scaled")
    # A second fit starts from the value before the first, not from the fitted one.
    again = c.base_values(new)
    if again["gemm.max_efficiency.bf16"] != base["gemm.max_efficiency.bf16"]:
        bad.append(f"{fam}: base after a fit {again['gemm.max_efficiency.bf16']}")
    if max(c.scaled(base, 5.0).values()) != 1.0:
        bad.append(f"{fam}: efficiencies not capped at 1")
    os.makedirs(os.path.join(tmp, "efficiency"), exist_ok=True)
    with open(os.path.join(tmp, "efficiency", fam + ".json"), "w") as f:
        f.write(out)
for line in bad:
    print("FAIL:", line)
sys.exit(1 if bad else 0)
PY
"$stepsim" check "$tmp/efficiency/hopper.json" "$tmp/efficiency/ampere.json" || { echo "FAIL: stepsim check rejects the fitted files"; exit 1; }
