#!/bin/sh
# stepsim collective against published nccl-tests bus bandwidths (docs/reference/hardware.md §3):
# each must land within 15 %.
stepsim="$1"
check() {  # check NAME EXPECTED_GBPS -- collective args...
  name="$1"; expected="$2"; shift 3
  "$stepsim" collective "$@" -b 1G -e 1G --json | python3 -c "
import json, sys
got = json.load(sys.stdin)[0]['busbw_gbps']
ok = abs(got - $expected) / $expected <= 0.15
print(f'{\"ok  \" if ok else \"FAIL\"} $name: busbw {got:.1f} GB/s, published ~$expected GB/s')
sys.exit(0 if ok else 1)" || fail=1
}
fail=0
check "8x H100 NVSwitch ring (S17, S18: 365-370)" 367 -- dgx-h100 --algo ring
check "8x H100 NVSwitch, NCCL default NVLS (S17, S19: 476-480)" 478 -- dgx-h100
check "8x A100 NVSwitch ring (S2: 229-235)" 230 -- dgx-a100
check "8x RTX PRO 6000 PCIe Gen5 (S14: 37.6-41.1)" 39.5 -- rtx-pro-6000-8gpu-dual-root
check "2 nodes x 8 H100, 8x400G, NCCL default choice (S45: ring ~365 at 4 nodes; NIC-bound 8x46-48; 2-node trees can exceed it, S19)" 365 -- dgx-h100-ib-ndr --nodes 2
check "8 nodes x 8 A100, 8x HDR 200G rail-optimized (S20: 192)" 192 -- dgx-a100-ib-hdr --nodes 8
# The JSON rows name the algorithm and the protocol: a 1 KiB all-gather on NVLink runs an LL ring
# (NCCL's tuning model: 6.6 + 7 x 0.6 us against Simple's 8.4 + 7 x 3.4 us), 1 GiB a Simple one.
"$stepsim" collective dgx-h100 --op allgather -b 1K -e 1G -f 1048576 --json | python3 -c "
import json, sys
rows = json.load(sys.stdin)
keys = [list(r) for r in rows]
want = [['bytes', 'time_s', 'algbw_gbps', 'busbw_gbps', 'algo', 'protocol', 'flows']] * 2
ok = keys == want and [(r['algo'], r['protocol']) for r in rows] == [('ring', 'll'), ('ring', 'simple')]
print(('ok  ' if ok else 'FAIL') + ' collective --json rows: ' + json.dumps([(r['algo'], r['protocol']) for r in rows]))
sys.exit(0 if ok else 1)" || fail=1
exit $fail
