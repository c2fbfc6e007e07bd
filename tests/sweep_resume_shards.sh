#!/bin/sh
# `stepsim sweep` end to end (docs/formats/sweep.md):
#  1. a sweep run straight through writes one record per point, sorted, exit 0;
#  2. a sweep killed with kill -9 mid-way (plus a torn half line, as a kill during a write leaves)
#     resumes, runs only what is missing, and ends byte-identical to the uninterrupted run;
#  3. three shards merged equal the unsharded result, byte for byte;
#  4. failed points are recorded with their error and make the exit status 4; with
#     "invalid": "skip" they are recorded as skipped and the status is 0; spec errors exit 2;
#  5. --timeout kills a point that runs too long and records it as failed ("timed out after");
#     re-running without it resumes those points.
# Usage: sweep_resume_shards.sh STEPSIM SOURCE_DIR
stepsim="$1"; src="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

# Six simulated points of about half a second each.
cat > "$tmp/spec.json" <<EOF
{
  "name": "resume-test",
  "base": "$src/scenarios/llama3-70b-qlora-h100-pcie.json",
  "axes": [
    {"path": "training.sharding", "values": ["zero2", "zero3"]},
    {"path": "training.recompute", "values": ["full", "selective", "none"]}
  ]
}
EOF

# 1. Straight through.
"$stepsim" sweep "$tmp/spec.json" -j 2 --out "$tmp/full" > "$tmp/full.out" 2> "$tmp/full.err" || die "full run: exit $?"
[ "$(lines "$tmp/full/results.jsonl")" = 6 ] || die "full run: expected 6 records, got $(lines "$tmp/full/results.jsonl")"
[ "$(lines "$tmp/full/results.csv")" = 7 ] || die "full run: expected a header and 6 CSV rows"
grep -q '6 ok, 0 skipped, 0 failed' "$tmp/full.out" || die "full run: summary: $(tail -1 "$tmp/full.out")"
indices=$(sed 's/.*"index":\([0-9]*\),.*/\1/' "$tmp/full/results.jsonl" | tr '\n' ' ')
[ "$indices" = "0 1 2 3 4 5 " ] || die "records not sorted by index: $indices"

# 2. kill -9 once two points are written, then resume.
"$stepsim" sweep "$tmp/spec.json" -j 1 --out "$tmp/killed" > /dev/null 2>&1 &
pid=$!
n=0
while [ "$(lines "$tmp/killed/results.jsonl")" -lt 2 ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
done_before=$(lines "$tmp/killed/results.jsonl")
[ "$done_before" -ge 2 ] && [ "$done_before" -lt 6 ] || die "kill came at the wrong time ($done_before records)"
printf '{"id":"0123456789abcdef","index":3,"status":"ok","report":{"sch' >> "$tmp/killed/results.jsonl"
"$stepsim" sweep "$tmp/spec.json" -j 2 --out "$tmp/killed" > "$tmp/resume.out" 2> "$tmp/resume.err" || die "resume: exit $?"
grep -q "resuming in .*: $done_before of 6 point(s) already finished, 1 torn line(s) dropped" "$tmp/resume.err" ||
  die "resume: stderr lacks the resume line: $(head -2 "$tmp/resume.err")"
ran=$(grep -c '^sweep \[' "$tmp/resume.err")
[ "$ran" = $((6 - done_before)) ] || die "resume ran $ran points, expected $((6 - done_before))"
for id in $(sed 's/^{"id":"\([0-9a-f]*\)".*/\1/' "$tmp/full/results.jsonl"); do
  c=$(grep -c "\"id\":\"$id\"" "$tmp/killed/results.jsonl")
  [ "$c" = 1 ] || die "point $id appears $c times after the resume"
done
cmp -s "$tmp/full/results.jsonl" "$tmp/killed/results.jsonl" || die "resumed results.jsonl differs from the straight run"
cmp -s "$tmp/full/results.csv" "$tmp/killed/results.csv" || die "resumed results.csv differs from the straight run"

# 3. Shards and merge.
for i in 1 2 3; do
  "$stepsim" sweep "$tmp/spec.json" -j 2 --shard "$i/3" --out "$tmp/shard$i" > /dev/null 2>&1 || die "shard $i/3: exit $?"
  [ "$(lines "$tmp/shard$i/results.jsonl")" = 2 ] || die "shard $i/3 should hold 2 of 6 points"
done
"$stepsim" sweep merge "$tmp/shard1" "$tmp/shard2" --out "$tmp/partial" > "$tmp/partial.out"; code=$?
[ $code = 4 ] && grep -q '2 of 6 missing' "$tmp/partial.out" || die "merge of 2 of 3 shards: exit $code, $(cat "$tmp/partial.out")"
"$stepsim" sweep merge "$tmp/shard3" "$tmp/shard1" "$tmp/shard2" --out "$tmp/merged" > /dev/null || die "merge: exit $?"
cmp -s "$tmp/full/results.jsonl" "$tmp/merged/results.jsonl" || die "merged results.jsonl differs from the unsharded run"
cmp -s "$tmp/full/results.csv" "$tmp/merged/results.csv" || die "merged results.csv differs from the unsharded run"

# A failure never replaces a finished record, whichever folder comes first.
mkdir -p "$tmp/failedcopy"
cp "$tmp/full/sweep.json" "$tmp/failedcopy/"
head -1 "$tmp/full/results.jsonl" | sed 's/"status":"ok"/"status":"failed"/' > "$tmp/failedcopy/results.jsonl"
for order in "$tmp/failedcopy $tmp/full" "$tmp/full $tmp/failedcopy"; do
  # shellcheck disable=SC2086
  "$stepsim" sweep merge $order --out "$tmp/pref" > /dev/null || die "merge with a stale failure: exit $?"
  cmp -s "$tmp/full/results.jsonl" "$tmp/pref/results.jsonl" || die "a stale failure replaced a finished record ($order)"
done

# 4. Failures, skips and spec errors (memory only: fast).
cat > "$tmp/bad.json" <<EOF
{
  "base": "$src/scenarios/llama3-70b-qlora-h100-pcie.json",
  "simulate": "none",
  "axes": [{"path": "training.tp", "values": [1, 3]}],
  "skip": []
}
EOF
"$stepsim" sweep "$tmp/bad.json" --out "$tmp/bad" > /dev/null 2>&1; code=$?
[ $code = 4 ] || die "a failed point should exit 4, got $code"
grep '"status":"failed"' "$tmp/bad/results.jsonl" | grep -q 'training' || die "the failure's error text is not recorded"
grep -q ',failed,' "$tmp/bad/results.csv" || die "the failure is not in the CSV"
sed 's/"skip": \[\]/"invalid": "skip"/' "$tmp/bad.json" > "$tmp/skip.json"
"$stepsim" sweep "$tmp/skip.json" --out "$tmp/skip" > /dev/null 2>&1 || die "invalid: skip should exit 0, got $?"
grep '"status":"skipped"' "$tmp/skip/results.jsonl" | grep -q '"reason":"invalid configuration' || die "invalid point not skipped"
printf '{"base": "x", "axes": [], "combine": "cross"}' > "$tmp/worse.json"
"$stepsim" sweep "$tmp/worse.json" --out "$tmp/worse" > "$tmp/worse.out" 2>&1; code=$?
[ $code = 2 ] && grep -q 'worse.json:1: combine' "$tmp/worse.out" || die "spec error: exit $code, $(cat "$tmp/worse.out")"
"$stepsim" sweep "$tmp/spec.json" --shard 4/3 > "$tmp/shard.out" 2>&1; code=$?
[ $code = 2 ] && grep -q 'I/N' "$tmp/shard.out" || die "--shard 4/3: exit $code"
"$stepsim" sweep "$tmp/bad.json" --out "$tmp/full" > "$tmp/other.out" 2>&1; code=$?
[ $code = 2 ] && grep -q 'another sweep' "$tmp/other.out" || die "reusing a folder of another sweep: exit $code"

# 5. Per-point timeout: no simulated point finishes within a millisecond.
"$stepsim" sweep "$tmp/spec.json" -j 2 --timeout 0.001 --out "$tmp/slow" > /dev/null 2>&1; code=$?
[ $code = 4 ] || die "--timeout: a timed-out point should exit 4, got $code"
[ "$(grep -c 'timed out after 0.001 s' "$tmp/slow/results.jsonl")" = 6 ] || die "--timeout: expected 6 timed-out records"
"$stepsim" sweep "$tmp/spec.json" -j 2 --out "$tmp/slow" > /dev/null 2>&1 || die "resuming timed-out points: exit $?"
cmp -s "$tmp/full/results.jsonl" "$tmp/slow/results.jsonl" || die "timed-out points resumed differ from the full run"

exit $fail
