#!/usr/bin/env python3
"""Validate cluster topology files (topologies/*.json) against docs/formats/topology.md.

    python3 tools/check_topologies.py                # every topologies/*.json (not topologies/gpus/)
    python3 tools/check_topologies.py FILE [FILE...]

Checks, per file: JSON with optional // and /* */ comments and no repeated key; required keys
present and no unknown key (at every level, as strictly as the C++ parser); value types and
ranges; the id equals the file name; the GPU id is a catalog id; every device has exactly one
valid kind, unique id and the extra keys of that kind only; link endpoints and link types exist;
each link kind joins devices it can join (NVLink: GPU/NVSwitch, socket: CPU-CPU, PCIe: through a
CPU or PCIe switch; network kinds only as NIC ports); no self or repeated links; the node graph is
connected; with a fabric, every GPU reaches a NIC without passing through another GPU, and the
NIC port kinds match the fabric's; without one (null), the node has no NIC.
Exit status 1 when any file has an error; warnings do not fail.
"""

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGY_DIR = ROOT / "topologies"
GPU_DIR = TOPOLOGY_DIR / "gpus"

GPU_IDS = {
    "v100-sxm3-32gb", "a100-sxm4-40gb", "a100-sxm4-80gb", "a100-pcie-80gb", "h100-sxm5-80gb",
    "h100-sxm5-96gb", "h100-pcie-80gb", "h100-nvl-94gb", "h200-sxm-141gb", "b200-sxm-180gb", "gb200",
    "rtx-pro-6000-blackwell-ws", "rtx-pro-6000-blackwell-maxq", "rtx-pro-6000-blackwell-server",
    "rtx-6000-ada", "rtx-a6000", "l40s", "rtx-4090", "rtx-5090", "mi300x",
}
LINK_KINDS = {"nvlink", "pcie", "socket", "ib", "roce", "ethernet", "xgmi"}
NETWORK_KINDS = {"ib", "roce", "ethernet"}
DEVICE_KINDS = {"gpu", "nvswitch", "pcie_switch", "cpu", "nic"}
FABRIC_KINDS = {"single_switch", "fat_tree", "rail_optimized"}

TOP_KEYS = {"id": True, "description": False, "gpu": True, "nodes": False, "host_memory_gb": True,
            "host_memory_bandwidth_gbps": False, "host_memory_bandwidth_source": False,
            "link_types": True, "node": True, "fabric": False}
LINK_TYPE_KEYS = {"kind": True, "bandwidth_gbps": True, "latency_us": True, "source": True}
DEVICE_KEYS = {"id": True, "kind": True}
DEVICE_EXTRA_KEYS = {"nvswitch": {"generation": True}, "nic": {"link_type": True}}
LINK_KEYS = {"a": True, "b": True, "type": True, "count": False}
FABRIC_KEYS = {"kind": True, "link_type": True, "nodes_per_leaf": False, "oversubscription": False,
               "source": True}


class Report:
    def __init__(self, name):
        self.name = name
        self.errors = []
        self.warnings = []

    def error(self, path, message):
        self.errors.append(f"{self.name}: {path or '(root)'}: {message}")

    def warn(self, path, message):
        self.warnings.append(f"{self.name}: {path or '(root)'}: warning: {message}")


def strip_comments(text):
    """Remove // line comments and /* */ block comments outside JSON strings."""
    out, i, n = [], 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated /* comment")
            out.append("\n" * text.count("\n", i, end + 2))
            i = end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def check_keys(rep, obj, path, spec):
    """Object type, required keys present, no unknown key. Returns False if obj is no object."""
    if not isinstance(obj, dict):
        rep.error(path, f"expected an object, got {type(obj).__name__}")
        return False
    for key, required in spec.items():
        if required and obj.get(key) is None:
            rep.error(path, f"missing required key {key!r}")
    for key in obj:
        if key not in spec:
            rep.error(join(path, key), f"unknown key {key!r} (allowed: {', '.join(sorted(spec))})")
    return True


def join(path, key):
    return f"{path}.{key}" if path else str(key)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_integer(v):
    return is_number(v) and float(v).is_integer()


def check_number(rep, obj, key, path, lo, hi, integer=False):
    v = obj.get(key)
    if v is None:
        return None
    ok = is_integer(v) if integer else is_number(v)
    if not ok or not lo <= v <= hi:
        rep.error(join(path, key), f"expected {'an integer' if integer else 'a number'} in [{lo}, {hi}], got {v!r}")
        return None
    return v


def check_string(rep, obj, key, path, nonempty=True):
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or (nonempty and not v.strip()):
        rep.error(join(path, key), f"expected a non-empty string, got {v!r}")
        return None
    return v


def check_topology(path, known_gpus):
    rep = Report(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path))
    try:
        doc = json.loads(strip_comments(path.read_text(encoding="utf-8")), object_pairs_hook=no_duplicate_keys)
    except (ValueError, OSError) as e:
        rep.error("", f"not valid JSON: {e}")
        return rep
    if not check_keys(rep, doc, "", TOP_KEYS):
        return rep

    topo_id = check_string(rep, doc, "id", "")
    if topo_id is not None and topo_id != path.stem:
        rep.error("id", f"id {topo_id!r} differs from the file name {path.stem!r}")
    if "description" in doc and not isinstance(doc["description"], str):
        rep.error("description", "expected a string")
    gpu = check_string(rep, doc, "gpu", "")
    if gpu is not None and gpu not in known_gpus:
        rep.error("gpu", f"unknown GPU catalog id {gpu!r}")
    check_number(rep, doc, "nodes", "", 1, 1 << 20, integer=True)
    check_number(rep, doc, "host_memory_gb", "", 1e-9, 1e9)
    # Optional peak host DRAM bandwidth; a figure needs its source and a source its figure.
    check_number(rep, doc, "host_memory_bandwidth_gbps", "", 1, 1e5)
    check_string(rep, doc, "host_memory_bandwidth_source", "")
    if "host_memory_bandwidth_gbps" in doc and "host_memory_bandwidth_source" not in doc:
        rep.error("host_memory_bandwidth_source", "host_memory_bandwidth_gbps has no source")
    if "host_memory_bandwidth_source" in doc and "host_memory_bandwidth_gbps" not in doc:
        rep.error("host_memory_bandwidth_source", "a source without host_memory_bandwidth_gbps")

    link_types = doc.get("link_types")
    lt_kind = {}
    if link_types is not None and not isinstance(link_types, dict):
        rep.error("link_types", f"expected an object, got {type(link_types).__name__}")
    if isinstance(link_types, dict):
        if not link_types:
            rep.error("link_types", "no link type defined")
        for name, spec in link_types.items():
            p = join("link_types", name)
            if not check_keys(rep, spec, p, LINK_TYPE_KEYS):
                continue
            kind = spec.get("kind")
            if kind not in LINK_KINDS:
                rep.error(join(p, "kind"), f"expected one of {sorted(LINK_KINDS)}, got {kind!r}")
            else:
                lt_kind[name] = kind
            check_number(rep, spec, "bandwidth_gbps", p, 0.001, 1e6)
            check_number(rep, spec, "latency_us", p, 0, 1e6)
            check_string(rep, spec, "source", p)

    node = doc.get("node")
    devices, links = {}, []
    if check_keys(rep, node, "node", {"devices": True, "links": True}):
        devices = check_devices(rep, node.get("devices"), link_types if isinstance(link_types, dict) else {})
        links = check_links(rep, node.get("links"), devices, lt_kind)
    gpus = [d for d, k in devices.items() if k == "gpu"]
    nics = [d for d, k in devices.items() if k == "nic"]
    if isinstance(node, dict) and isinstance(node.get("devices"), list) and not gpus:
        rep.error("node.devices", "the node has no GPU")

    adjacency = defaultdict(set)
    for a, b, _ in links:
        adjacency[a].add(b)
        adjacency[b].add(a)
    if devices and not rep.errors:
        first = next(iter(devices))
        unreachable = set(devices) - reachable(first, adjacency, lambda d: True)
        if unreachable:
            rep.error("node.links", f"the node is disconnected: {', '.join(sorted(unreachable))} cannot reach {first}")

    fabric = doc.get("fabric")
    nic_types = {node_nic_type(node, n) for n in nics}
    if fabric is None:
        if nics:
            rep.error("fabric", "the node has NICs but fabric is null (null means: never multi-node)")
    elif check_keys(rep, fabric, "fabric", FABRIC_KEYS):
        kind = fabric.get("kind")
        if kind not in FABRIC_KINDS:
            rep.error("fabric.kind", f"expected one of {sorted(FABRIC_KINDS)}, got {kind!r}")
        ft = check_string(rep, fabric, "link_type", "fabric")
        if ft is not None:
            if ft not in lt_kind:
                rep.error("fabric.link_type", f"unknown link type {ft!r}")
            elif lt_kind[ft] not in NETWORK_KINDS:
                rep.error("fabric.link_type", f"{ft!r} is a {lt_kind[ft]} link, not a network link")
            else:
                for t in sorted(nic_types):
                    if t in lt_kind and lt_kind[t] != lt_kind[ft]:
                        rep.error("fabric.link_type", f"NIC ports are {lt_kind[t]} ({t!r}) but the fabric is {lt_kind[ft]}")
        check_string(rep, fabric, "source", "fabric")
        if kind in ("fat_tree", "rail_optimized"):
            for key in ("nodes_per_leaf", "oversubscription"):
                if fabric.get(key) is None:
                    rep.error(join("fabric", key), f"required for a {kind} fabric")
            check_number(rep, fabric, "nodes_per_leaf", "fabric", 1, 1 << 20, integer=True)
            check_number(rep, fabric, "oversubscription", "fabric", 1.0, 64.0)
            if kind == "rail_optimized" and nics and len(nics) != len(gpus):
                rep.warn("fabric", f"rail-optimized with {len(nics)} NICs for {len(gpus)} GPUs")
        elif kind == "single_switch":
            for key in ("nodes_per_leaf", "oversubscription"):
                if key in fabric:
                    rep.error(join("fabric", key), "only for fat_tree and rail_optimized fabrics")
        if not nics:
            rep.error("fabric", "a fabric is given but the node has no NIC")
        elif not rep.errors:
            not_gpu = lambda d: devices.get(d) != "gpu"
            for g in gpus:
                # GPUs are endpoints, not transit: the walk may start at g but not cross another GPU.
                seen = reachable(g, adjacency, not_gpu)
                if not seen & set(nics):
                    rep.error("node.links", f"{g} reaches no NIC without passing through another GPU")

    if isinstance(link_types, dict):
        used = {t for _, _, t in links} | nic_types
        if isinstance(fabric, dict):
            used.add(fabric.get("link_type"))
        for name in link_types:
            if name not in used:
                rep.warn(join("link_types", name), "defined but not used")
    return rep


def node_nic_type(node, nic_id):
    for d in node.get("devices", []):
        if isinstance(d, dict) and d.get("id") == nic_id:
            return d.get("link_type")
    return None


def check_devices(rep, devices, link_types):
    out = {}
    if not isinstance(devices, list):
        if devices is not None:
            rep.error("node.devices", "expected a list")
        return out
    for i, d in enumerate(devices):
        p = f"node.devices[{i}]"
        if not isinstance(d, dict):
            rep.error(p, "expected an object")
            continue
        kind = d.get("kind")
        if kind not in DEVICE_KINDS:
            rep.error(join(p, "kind"), f"expected exactly one of {sorted(DEVICE_KINDS)}, got {kind!r}")
            check_keys(rep, d, p, DEVICE_KEYS)
            continue
        check_keys(rep, d, p, {**DEVICE_KEYS, **DEVICE_EXTRA_KEYS.get(kind, {})})
        dev_id = check_string(rep, d, "id", p)
        if dev_id is None:
            continue
        if dev_id in out:
            rep.error(join(p, "id"), f"device id {dev_id!r} is used twice")
            continue
        out[dev_id] = kind
        if kind == "nvswitch":
            check_number(rep, d, "generation", p, 1, 10, integer=True)
        if kind == "nic":
            t = check_string(rep, d, "link_type", p)
            if t is not None and t not in link_types:
                rep.error(join(p, "link_type"), f"unknown link type {t!r}")
            elif t is not None and isinstance(link_types[t], dict) and link_types[t].get("kind") not in NETWORK_KINDS:
                rep.error(join(p, "link_type"), f"a NIC port must be ib, roce or ethernet, {t!r} is not")
    return out


def check_links(rep, links, devices, lt_kind):
    out = []
    if not isinstance(links, list):
        if links is not None:
            rep.error("node.links", "expected a list")
        return out
    seen_pairs = {}
    for i, l in enumerate(links):
        p = f"node.links[{i}]"
        if not check_keys(rep, l, p, LINK_KEYS):
            continue
        a, b, t = (check_string(rep, l, k, p) for k in ("a", "b", "type"))
        check_number(rep, l, "count", p, 1, 64, integer=True)
        ok = True
        for end in (a, b):
            if end is not None and end not in devices:
                rep.error(p, f"link endpoint {end!r} is not a device of the node")
                ok = False
        if t is not None and t not in lt_kind:
            rep.error(join(p, "type"), f"unknown link type {t!r}")
            ok = False
        if None in (a, b, t) or not ok:
            continue
        if a == b:
            rep.error(p, f"a link from {a!r} to itself")
            continue
        pair = tuple(sorted((a, b)))
        if pair in seen_pairs:
            rep.error(p, f"{a} and {b} are already linked by node.links[{seen_pairs[pair]}]; use \"count\"")
            continue
        seen_pairs[pair] = i
        problem = link_kind_problem(lt_kind[t], devices[a], devices[b])
        if problem:
            rep.error(p, f"{t!r} ({lt_kind[t]}) cannot join {a} ({devices[a]}) and {b} ({devices[b]}): {problem}")
            continue
        out.append((a, b, t))
    return out


def link_kind_problem(kind, ka, kb):
    ends = {ka, kb}
    if kind == "nvlink":
        if not ends <= {"gpu", "nvswitch"} or ends == {"nvswitch"}:
            return "NVLink joins GPUs, or a GPU and an NVSwitch"
    elif kind == "xgmi":
        if ends != {"gpu"}:
            return "GPU xGMI joins two GPUs"
    elif kind == "socket":
        if ends != {"cpu"}:
            return "a socket link joins two CPUs"
    elif kind == "pcie":
        if not ends & {"cpu", "pcie_switch"} or "nvswitch" in ends:
            return "PCIe runs through a CPU root port or a PCIe switch"
    elif kind in NETWORK_KINDS:
        return "network links are NIC ports: set the NIC's link_type and the fabric instead"
    return None


def reachable(start, adjacency, may_transit):
    seen, stack = {start}, [start]
    while stack:
        v = stack.pop()
        if v != start and not may_transit(v):
            continue
        for w in adjacency[v]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="files to check (default: topologies/*.json)")
    args = parser.parse_args()
    files = [f.resolve() for f in args.files] or sorted(TOPOLOGY_DIR.glob("*.json"))
    if not files:
        print(f"no topology files in {TOPOLOGY_DIR}", file=sys.stderr)
        return 1
    known_gpus = GPU_IDS | {p.stem for p in GPU_DIR.glob("*.json")}
    failed = 0
    for path in files:
        rep = check_topology(path, known_gpus)
        for line in rep.errors + rep.warnings:
            print(line, file=sys.stderr)
        if rep.errors:
            failed += 1
        else:
            print(f"ok   {rep.name}")
    print(f"{len(files) - failed} of {len(files)} topology files valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
