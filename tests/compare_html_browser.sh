#!/bin/sh
# Browser test of `stepsim compare --html`: the page is self-contained and headless Chromium
# draws its charts.
#
# Chromium (Debian package `chromium`, installed by `tools/setup.sh test`) runs as:
#   chromium --headless --no-sandbox --disable-gpu --user-data-dir=DIR --dump-dom file://PAGE
#   chromium --headless --no-sandbox --disable-gpu --user-data-dir=DIR --hide-scrollbars
#            --window-size=1000,1600 --screenshot=SHOT.png file://PAGE
# --headless: no display needed; --no-sandbox: CI runs as root, where the sandbox refuses to
# start; --disable-gpu: software rendering, no GPU process; --user-data-dir: a private profile,
# so parallel tests do not share one; --dump-dom prints the DOM after parsing and layout;
# --screenshot writes a PNG of the window. The PNG is decoded with the standard library
# (tests/png_colors.py) and the charts' fill colours are counted: a blank or unstyled page fails.
# Exit 77 (ctest: skipped) when chromium is not installed.
# Usage: compare_html_browser.sh STEPSIM SOURCE_DIR
stepsim="$1"; src="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v chromium > /dev/null || { echo "chromium not installed (apt-get install chromium): skipped"; exit 77; }
fail=0
die() { echo "FAIL: $*"; fail=1; }

# Two simulated runs that fit and one memory-only report that runs out of memory.
"$stepsim" run "$src/scenarios/llama3-70b-full-zero3-h100-pcie.json" --no-engine --json > "$tmp/oom.json" || die "run --no-engine"
"$stepsim" compare "$src/scenarios/llama3-70b-qlora-h100-pcie.json" "$src/scenarios/llama3-70b-qlora-rtx-pro-6000.json" \
  "$tmp/oom.json" --html "$tmp/page.html" > "$tmp/table.txt" || die "compare: exit $?"
grep -Eq '^step time .*\([+-][0-9.]+ %\)' "$tmp/table.txt" || die "the table lacks the relative step-time difference: $(cat "$tmp/table.txt")"

# Self-contained: no scripts, no external resources (the SVG namespace is a name, not a fetch).
grep -Eq '<script|<link|src=|href=|@import|url\(' "$tmp/page.html" && die "the page refers to external resources"
[ "$(grep -o 'http[s]*://[^"]*' "$tmp/page.html" | sort -u)" = "http://www.w3.org/2000/svg" ] || die "the page has URLs"

chrome() { timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" "$@" 2> "$tmp/chromium.err"; }
chrome --dump-dom "file://$tmp/page.html" > "$tmp/dom.html" || die "chromium --dump-dom failed: $(tail -3 "$tmp/chromium.err")"
count() { grep -o "$1" "$tmp/dom.html" | wc -l | tr -d ' '; }
[ "$(count '<svg id="chart-breakdown"')" = 1 ] || die "no breakdown chart in the DOM"
[ "$(count '<svg id="chart-memory"')" = 1 ] || die "no memory chart in the DOM"
# forward, backward and recompute for each of the two simulated runs
for part in forward backward recompute; do
  [ "$(count "class=\"bar seg-$part\"")" = 2 ] || die "breakdown: expected 2 $part bars, got $(count "class=\"bar seg-$part\"")"
done
[ "$(count 'class="bar mem-fits"')" = 2 ] || die "memory: expected 2 bars that fit"
[ "$(count 'class="bar mem-oom"')" = 1 ] || die "memory: expected 1 out-of-memory bar"
[ "$(count 'class="capacity"')" = 3 ] || die "memory: expected 3 capacity marks"
if grep -q '^\$ per M tokens' "$tmp/table.txt"; then  # the reports have costs
  [ "$(count '<svg id="chart-cost"')" = 1 ] || die "the reports have costs but the page has no cost chart"
  [ "$(count 'class="bar cost-cloud"')" -ge 1 ] || die "cost chart without bars"
fi

chrome --hide-scrollbars --window-size=1000,1600 --screenshot="$tmp/shot.png" "file://$tmp/page.html" > /dev/null ||
  die "chromium --screenshot failed: $(tail -3 "$tmp/chromium.err")"
python3 "$src/tests/png_colors.py" "$tmp/shot.png" '#4e79a7' '#f28e2b' '#59a14f' '#e15759' '#000000' > "$tmp/colors.txt" ||
  die "cannot decode the screenshot"
px() { awk -v c="$1" '$1 == c {print $2}' "$tmp/colors.txt"; }
[ "$(px distinct)" -gt 20 ] || die "the screenshot looks blank: $(cat "$tmp/colors.txt")"
# Bars are 18 px high: 1000 px of a chart colour is at least one bar of 55 px drawn (each
# colour here fills several bars: forward/cloud blue, backward orange, fits green, OOM red).
for c in '#4e79a7' '#f28e2b' '#59a14f' '#e15759'; do
  [ "$(px "$c")" -gt 1000 ] || die "colour $c barely drawn: $(px "$c") pixels"
done
[ "$(px '#000000')" -gt 100 ] || die "capacity marks not drawn"
[ $fail = 0 ] || cat "$tmp/colors.txt"
exit $fail
