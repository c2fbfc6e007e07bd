#!/usr/bin/env bash
# Regenerates the output blocks of README.md (and of docs pages) from real runs of build/stepsim (never typed by
# hand). Each block sits between "<!-- generated: NAME -->" and "<!-- end: NAME -->" markers;
# the command that produced it is printed above the output.
set -euo pipefail
cd "$(dirname "$0")/.."
stepsim=${STEPSIM:-build/stepsim}  # STEPSIM=build-x/stepsim to use another build
[ -x "$stepsim" ] || { echo "build first: tools/setup.sh build" >&2; exit 2; }

replace_block() {  # replace_block FILE NAME COMMAND...
  local file="$1" name="$2"; shift 2
  replace_text "$file" "$name" "$(printf '```\n$ %s\n%s\n```\n' "$*" "$("$@" 2>&1 || true)")"
}

replace_text() {  # replace_text FILE NAME BODY: the block becomes BODY as it is (e.g. a Markdown table)
  local file="$1" name="$2" body="$3"
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
replace_block docs/report-schema.md report-json "$stepsim" run scenarios/llama3-70b-lora-rtx-pro-6000.json --json
replace_block docs/report-schema.md report-text "$stepsim" run scenarios/llama3-70b-lora-rtx-pro-6000.json

# The seed sweep (docs/formats/sweep.md): its result table and a screenshot of its compare page.
sweep_tmp=$(mktemp -d)
trap 'rm -rf "$sweep_tmp"' EXIT
"$stepsim" sweep scenarios/sweeps/h100-pcie-vs-rtx-pro-6000.json --out "$sweep_tmp/out" > /dev/null 2>&1 || true
replace_text README.md sweep-table "$("$stepsim" compare "$sweep_tmp/out" --markdown)"
replace_block README.md compare "$stepsim" compare scenarios/llama3-70b-qlora-h100-pcie.json scenarios/llama3-70b-qlora-rtx-pro-6000.json
"$stepsim" compare "$sweep_tmp/out" --html "$sweep_tmp/page.html" \
  --title "Llama-3-70B fine-tuning: 8x H100 PCIe vs 8x RTX PRO 6000 (DGX H100 for reference)" > /dev/null
if command -v chromium > /dev/null; then  # flags: tests/compare_html_browser.sh
  mkdir -p docs/images
  chromium --headless --no-sandbox --disable-gpu --user-data-dir="$sweep_tmp/profile" --hide-scrollbars \
    --window-size=1360,2300 --screenshot=docs/images/sweep-h100-pcie-vs-rtx-pro-6000.png "file://$sweep_tmp/page.html" \
    > /dev/null 2>&1
else
  echo "chromium not installed: docs/images/sweep-h100-pcie-vs-rtx-pro-6000.png not regenerated" >&2
fi

# The timeline picture (docs/formats/trace.md): one rank per pipeline stage of GPT-3 175B.
timeline_args="run scenarios/gpt3-175b-megatron-dgx-a100.json --trace-ranks 0,8,16,24,32,40,48,56"
timeline_svg=docs/images/timeline-gpt3-175b-megatron-dgx-a100.svg
mkdir -p docs/images
"$stepsim" $timeline_args --timeline-svg "$timeline_svg" > /dev/null
replace_text README.md timeline "$(printf '```\n$ build/stepsim %s --timeline-svg %s\n```\n\n![%s](%s)' \
  "$timeline_args" "$timeline_svg" "Timeline of one GPT-3 175B step on 8 DGX A100, ranks 0, 8, …, 56" "$timeline_svg")"
echo "README.md updated"

# docs/validation.md needs a full `stepsim validate` run (minutes): only with --with-validation.
if [ "${1:-}" = "--with-validation" ]; then
  python3 tools/validation_report.py docs --stepsim "$stepsim" --timeout 60
fi
