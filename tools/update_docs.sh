#!/usr/bin/env bash
# Regenerates the output blocks of README.md from real runs of build/stepsim (never typed by
# hand). Each block sits between "<!-- generated: NAME -->" and "<!-- end: NAME -->" markers;
# the command that produced it is printed above the output.
set -euo pipefail
cd "$(dirname "$0")/.."
stepsim=build/stepsim
[ -x "$stepsim" ] || { echo "build first: tools/setup.sh build" >&2; exit 2; }

replace_block() {  # replace_block FILE NAME COMMAND...
  local file="$1" name="$2"; shift 2
  local body
  body=$(printf '```\n$ %s\n%s\n```\n' "$*" "$("$@" 2>&1 || true)")
  python3 - "$file" "$name" "$body" <<'PY'
import sys
path, name, body = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
start, end = f"<!-- generated: {name} -->", f"<!-- end: {name} -->"
a, b = text.index(start) + len(start), text.index(end)
open(path, "w").write(text[:a] + "\n" + body.rstrip("\n") + "\n" + text[b:])
PY
}

replace_block README.md run-default "$stepsim" run
replace_block README.md run-qlora "$stepsim" run scenarios/llama3-70b-qlora-h100-pcie.json
replace_block README.md collective "$stepsim" collective dgx-h100 -b 64M -e 4G -f 4
replace_block README.md bad-input "$stepsim" run scenarios/gpt3-175b-megatron-dgx-a100.json --set training.tp=3
replace_block docs/formats/topology.md catalog-topologies "$stepsim" catalog topologies
echo "README.md updated"
