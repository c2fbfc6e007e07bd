#!/bin/sh
# Exit-code contract of the CLI: 0 ok, 2 bad input/usage, 3 OOM with --fail-on-oom; never a crash.
stepsim="$1"; src="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect CODE PATTERN -- command...
  code="$1"; pattern="$2"; shift 3
  "$@" >"$tmp/out" 2>&1; got=$?
  if [ "$got" -ne "$code" ]; then echo "FAIL: exit $got (expected $code): $*"; cat "$tmp/out"; fail=1; return; fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/out"; then
    echo "FAIL: output lacks '$pattern': $*"; cat "$tmp/out"; fail=1
  fi
}
s="$src/scenarios/llama3-70b-lora-rtx-pro-6000.json"
expect 0 '"schema": "stepsim.report/1"' -- "$stepsim" run "$s" --json
expect 0 'tp 8' -- "$stepsim" run "$src/scenarios/llama3-70b-tp8-dgx-h100.json" --set cluster.nodes=4 --no-engine
expect 0 'tp 4 · pp 1 · dp 4' -- "$stepsim" run --set cluster.nodes=2 --set training.tp=4 "$src/scenarios/llama3-70b-tp8-dgx-h100.json" --no-engine
expect 2 'did you mean "tp"' -- "$stepsim" run "$s" --set training.tpp=2
expect 2 'PATH=VALUE' -- "$stepsim" run "$s" --set training.tp
expect 2 'no GPU "h100"' -- "$stepsim" run "$s" --set cluster.gpu=h100
expect 2 'cannot open' -- "$stepsim" run "$tmp/missing.json"
expect 2 'cannot open' -- "$stepsim" check "$tmp/missing.json"
expect 2 '' -- "$stepsim" run "$s" --no-such-flag
expect 2 '' -- "$stepsim" catalog nonsense
# the full fine-tune's model states alone exceed 80 GB: a certain OOM
expect 3 'OUT OF MEMORY' -- "$stepsim" run "$src/scenarios/llama3-70b-full-zero3-h100-pcie.json" --fail-on-oom
expect 0 'OUT OF MEMORY' -- "$stepsim" run "$src/scenarios/llama3-70b-full-zero3-h100-pcie.json"
# a topology's host memory bandwidth without its source is bad input, named by file and key
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('host_memory_bandwidth_source'); json.dump(d, open(sys.argv[2], 'w'))" \
  "$src/topologies/dgx-h100.json" "$tmp/unsourced.json"
expect 2 'unsourced.json:[0-9]*: host_memory_bandwidth_source: host_memory_bandwidth_gbps has no source' -- \
  "$stepsim" check "$tmp/unsourced.json"
expect 2 'host_memory_bandwidth_gbps has no source' -- \
  "$stepsim" run "$src/scenarios/llama3-70b-tp8-dgx-h100.json" --no-engine --set cluster.topology="$tmp/unsourced.json"
# hostile bytes: truncated, binary, deep nesting, huge numbers, NaN, negative
printf '{"cluster": {"topology": "dgx-h100"' > "$tmp/truncated.json"
head -c 4096 /dev/urandom > "$tmp/binary.json"
python3 -c "print('['*100000 + ']'*100000)" > "$tmp/deep.json"
printf '{"cluster":{"topology":"dgx-h100"},"model":"llama3-8b","training":{"seq_len":1e999,"global_batch":8}}' > "$tmp/huge.json"
printf '{"cluster":{"topology":"dgx-h100"},"model":"llama3-8b","training":{"seq_len":NaN,"global_batch":8}}' > "$tmp/nan.json"
printf '{"cluster":{"topology":"dgx-h100"},"model":"llama3-8b","training":{"seq_len":-4096,"global_batch":8}}' > "$tmp/negative.json"
printf '{"cluster":{"topology":"dgx-h100"},"model":"llama3-8b","training":{"seq_len":99999999999999999999999,"global_batch":8}}' > "$tmp/bigint.json"
for f in truncated binary deep huge nan negative bigint; do
  expect 2 'error:' -- "$stepsim" run "$tmp/$f.json"
  expect 2 'error:' -- "$stepsim" check "$tmp/$f.json"
done
exit $fail
