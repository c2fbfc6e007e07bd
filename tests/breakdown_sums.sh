#!/bin/sh
# Every shipped scenario: the breakdown adds up to the step time, the critical path covers the
# step from 0 to its end without overlaps, and the report names a bottleneck whose shares are
# fractions. One `stepsim run --json` per scenario; scenario names after the first two arguments
# are skipped (ctest skips the three that take seconds each: the 16K-GPU, the 64-GPU GPT-3 and
# the TP8 DGX ones; run the script by hand with no names to check every shipped scenario).
stepsim="$1"; src="$2"; shift 2
fail=0
for f in "$src"/scenarios/*.json; do
  case " $* " in *" $(basename "$f" .json) "*) echo "skip $(basename "$f" .json)"; continue;; esac
  "$stepsim" run "$f" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
name, t = r['scenario'], r['step_time_s']
b = r['breakdown_s']
total = b['forward'] + b['backward'] + b['recompute'] + b['optimizer'] + sum(b['exposed_comm'].values()) + b['bubble'] + b['idle']
cp = r['critical_path']
steps = cp['steps']
ordered = all(steps[i]['end_s'] <= steps[i + 1]['start_s'] + 1e-9 * t for i in range(len(steps) - 1))
top = r['bottlenecks'][0] if r['bottlenecks'] else None
checks = {
  'breakdown sums to the step time': abs(total - t) <= 1e-9 * t,
  'critical path covers the step': abs(cp['length_s'] - t) <= 1e-6 * t and cp['compute_s'] + cp['communication_s'] + cp['wait_s'] - cp['length_s'] <= 1e-9 * t,
  'critical path segments in time order': ordered and (not steps or steps[0]['start_s'] >= 0) and (not steps or steps[-1]['end_s'] <= t * (1 + 1e-9)),
  'a bottleneck is named': top is not None and top['resource'] != '',
  'bottleneck shares are fractions': all(0 < x['critical_path_fraction'] <= 1 + 1e-9 and 0 <= x.get('utilization', 0) <= 1 + 1e-3 for x in r['bottlenecks']),
}
bad = [k for k, ok in checks.items() if not ok]
print(f\"{'FAIL' if bad else 'ok  '} {name}: step {t:.6g} s, breakdown {total:.6g} s, path {cp['length_s']:.6g} s, \"
      f\"bottleneck {top['resource'] if top else None} ({100 * top['critical_path_fraction'] if top else 0:.1f} %) {'; '.join(bad)}\")
sys.exit(1 if bad else 0)" || fail=1
done
exit $fail
