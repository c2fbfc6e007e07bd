#!/bin/sh
# Replica folding must not change the answer where the route check allows it: the same
# scenario simulated with every rank and with one data-parallel replica gives the same step time
# and the same GPU energy (the folded run scales its replica's energy to the whole cluster).
stepsim="$1"; src="$2"
base="$src/scenarios/llama3.1-405b-16k-h100.json"
common="--set cluster.topology=dgx-h100 --set cluster.nodes=32 --set training.dp=2 --set training.global_batch=32 --set training.recompute=full"
full=$("$stepsim" run "$base" $common --set simulation.fold_replicas=false --json) || exit 1
folded=$("$stepsim" run "$base" $common --set simulation.fold_replicas=true --json) || exit 1
python3 - "$full" "$folded" <<'PY'
import json, sys
full, folded = json.loads(sys.argv[1]), json.loads(sys.argv[2])
a, b = full["step_time_s"], folded["step_time_s"]
print(f"full {a:.6f} s ({full['simulation']['simulated_ranks']} ranks), folded {b:.6f} s "
      f"({folded['simulation']['simulated_ranks']} ranks): {folded['simulation']['folding']}")
ea, eb = full["energy"]["gpu_j"], folded["energy"]["gpu_j"]  # folded: one replica's energy x 2
print(f"GPU energy: full {ea:.1f} J, folded {eb:.1f} J")
ok = abs(a - b) / a < 0.01 and folded["simulation"]["folding"].startswith("folded") \
     and folded["simulation"]["simulated_ranks"] * 2 == full["simulation"]["simulated_ranks"] \
     and abs(ea - eb) / ea < 0.01
sys.exit(0 if ok else 1)
PY
