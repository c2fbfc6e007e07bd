#!/usr/bin/env python3
"""Check the GPU catalog (topologies/gpus/*.json) against docs/formats/gpu-catalog.md.

Stdlib only. For every file it:
  * strips `//` line comments (outside strings) and parses the JSON, rejecting
    duplicate keys;
  * checks the schema: required keys, types, enums, unknown keys, id == file name;
  * checks that every non-null number, plus memory.type, nvlink.scope and
    pcie_p2p, is covered by a `sources` entry whose key is the value's dotted
    path or an ancestor of it (a price entry may instead carry its own
    non-empty "source" string);
  * checks that every `sources` key names an existing path;
  * runs a few sanity checks (tf32 <= bf16 <= fp8 <= fp4 where present,
    idle < TDP, AMD <-> cdna3 <-> xgmi-mesh).

Usage:
  tools/check_gpu_catalog.py [--dir DIR] [--format PATH/TO/FORMAT.md]

--format: also require a catalog file for every id listed in the
"Hardware catalog ids" table of the published-runs FORMAT.md.

Exit status 0 when there are no violations, 1 otherwise (each violation is
printed as `file: message`).
"""

import argparse
import datetime
import json
import os
import re
import sys

FAMILIES = {"volta", "ampere", "ada", "hopper", "blackwell", "blackwell-pro", "cdna3"}
VENDORS = {"nvidia", "amd"}
FORM_FACTORS = {"sxm", "pcie", "superchip", "oam"}
NVLINK_SCOPES = {"switch", "bridge-pairs", "bridge-4way", "xgmi-mesh"}
PRICE_KINDS = {"purchase", "cloud_gpu_hour"}
DTYPES = ["fp32", "tf32", "bf16", "fp16", "fp8", "fp4"]

TOP_REQUIRED = ["id", "name", "vendor", "family", "form_factor", "memory", "dense_tflops",
                "sms", "l2_mb", "boost_clock_mhz", "power", "host_link", "nvlink",
                "pcie_p2p", "sources"]
TOP_OPTIONAL = ["prices"]
# Keys whose values need no source (identity / classification).
UNSOURCED_TOP = {"id", "name", "vendor", "family", "form_factor", "sources"}


def strip_line_comments(text):
    """Remove `//` comments that are outside JSON strings; keep newlines."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
            continue
        if c == '"':
            in_str = True
            out.append(c)
            i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


class DuplicateKey(ValueError):
    pass


def _no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise DuplicateKey("duplicate key %r" % k)
        d[k] = v
    return d


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Checker:
    def __init__(self, fname):
        self.fname = fname
        self.errors = []

    def err(self, msg):
        self.errors.append("%s: %s" % (self.fname, msg))

    # -- schema helpers --------------------------------------------------
    def keys_exact(self, obj, path, required, optional=()):
        if not isinstance(obj, dict):
            self.err("%s must be an object" % path)
            return False
        for k in required:
            if k not in obj:
                self.err("%s: missing required key %r" % (path, k))
        for k in obj:
            if k not in required and k not in optional:
                self.err("%s: unknown key %r" % (path, k))
        return True

    def num(self, obj, key, path, allow_null=False, positive=True, integer=False):
        if key not in obj:
            return
        v = obj[key]
        p = "%s.%s" % (path, key) if path else key
        if v is None:
            if not allow_null:
                self.err("%s must not be null" % p)
            return
        if not is_number(v):
            self.err("%s must be a number, got %r" % (p, v))
            return
        if integer and not (isinstance(v, int) or float(v).is_integer()):
            self.err("%s must be an integer, got %r" % (p, v))
        if positive and v <= 0:
            self.err("%s must be > 0, got %r" % (p, v))
        if not positive and v < 0:
            self.err("%s must be >= 0, got %r" % (p, v))

    def text(self, obj, key, path, choices=None):
        if key not in obj:
            return
        v = obj[key]
        p = "%s.%s" % (path, key) if path else key
        if not isinstance(v, str) or not v.strip():
            self.err("%s must be a non-empty string" % p)
            return
        if choices is not None and v not in choices:
            self.err("%s = %r not one of %s" % (p, v, sorted(choices)))

    # -- the checks ------------------------------------------------------
    def check_schema(self, d, expected_id):
        self.keys_exact(d, "<root>", TOP_REQUIRED, TOP_OPTIONAL)
        self.text(d, "id", "")
        if d.get("id") != expected_id:
            self.err("id %r does not match file name %r" % (d.get("id"), expected_id))
        self.text(d, "name", "")
        self.text(d, "vendor", "", VENDORS)
        self.text(d, "family", "", FAMILIES)
        self.text(d, "form_factor", "", FORM_FACTORS)

        mem = d.get("memory")
        if mem is not None and self.keys_exact(mem, "memory",
                                               ["capacity_gb", "type", "bandwidth_gbps", "bus_bits"]):
            self.num(mem, "capacity_gb", "memory")
            self.text(mem, "type", "memory")
            self.num(mem, "bandwidth_gbps", "memory")
            self.num(mem, "bus_bits", "memory", integer=True)

        tf = d.get("dense_tflops")
        if tf is not None and self.keys_exact(tf, "dense_tflops", DTYPES):
            for k in DTYPES:
                self.num(tf, k, "dense_tflops", allow_null=(k != "fp32"))
            chain = [(k, tf.get(k)) for k in ["tf32", "bf16", "fp8", "fp4"]
                     if is_number(tf.get(k))]
            for (ka, va), (kb, vb) in zip(chain, chain[1:]):
                if va > vb:
                    self.err("dense_tflops.%s (%s) > dense_tflops.%s (%s): dense/sparse mix-up?"
                             % (ka, va, kb, vb))

        self.num(d, "sms", "", integer=True)
        self.num(d, "l2_mb", "")
        self.num(d, "boost_clock_mhz", "")

        pw = d.get("power")
        if pw is not None and self.keys_exact(pw, "power", ["tdp_w", "idle_w"]):
            self.num(pw, "tdp_w", "power")
            self.num(pw, "idle_w", "power", positive=False)
            if is_number(pw.get("tdp_w")) and is_number(pw.get("idle_w")) \
                    and pw["idle_w"] >= pw["tdp_w"]:
                self.err("power.idle_w must be below power.tdp_w")

        hl = d.get("host_link", None)
        if "host_link" in d and hl is None:
            self.err("host_link must not be null (the C++ parser requires it; see the gb200 stand-in)")
        if hl is not None and self.keys_exact(hl, "host_link", ["pcie_gen", "lanes"]):
            self.num(hl, "pcie_gen", "host_link", integer=True)
            self.num(hl, "lanes", "host_link", integer=True)
            if hl.get("lanes") not in (1, 2, 4, 8, 16, None):
                self.err("host_link.lanes must be 1, 2, 4, 8 or 16")
            if is_number(hl.get("pcie_gen")) and not 1 <= hl["pcie_gen"] <= 7:
                self.err("host_link.pcie_gen must be 1..7")

        nv = d.get("nvlink", None)
        if nv is not None and self.keys_exact(nv, "nvlink", ["generation", "bandwidth_gbps", "scope"]):
            self.num(nv, "generation", "nvlink", positive=False, integer=True)
            self.num(nv, "bandwidth_gbps", "nvlink")
            self.text(nv, "scope", "nvlink", NVLINK_SCOPES)
            is_amd = d.get("vendor") == "amd"
            if (nv.get("scope") == "xgmi-mesh") != is_amd:
                self.err("nvlink.scope 'xgmi-mesh' is for AMD parts only (and required for them)")
            if is_amd and nv.get("generation") != 0:
                self.err("nvlink.generation must be 0 for AMD Infinity Fabric")

        if (d.get("vendor") == "amd") != (d.get("family") == "cdna3"):
            self.err("vendor 'amd' goes with family 'cdna3' (and only with it)")

        if "pcie_p2p" in d and not isinstance(d["pcie_p2p"], bool):
            self.err("pcie_p2p must be true or false")

        if "prices" in d:
            prices = d["prices"]
            if not isinstance(prices, list):
                self.err("prices must be a list")
            else:
                for i, p in enumerate(prices):
                    path = "prices.%d" % i
                    if not self.keys_exact(p, path, ["kind", "usd", "date", "provider", "source"]):
                        continue
                    self.text(p, "kind", path, PRICE_KINDS)
                    self.num(p, "usd", path)
                    self.text(p, "provider", path)
                    self.text(p, "source", path)
                    dt = p.get("date")
                    try:
                        if not isinstance(dt, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", dt):
                            raise ValueError
                        datetime.date.fromisoformat(dt)
                    except ValueError:
                        self.err("%s.date must be YYYY-MM-DD, got %r" % (path, dt))

        src = d.get("sources")
        if src is not None:
            if not isinstance(src, dict):
                self.err("sources must be an object")
            else:
                for k, v in src.items():
                    if not isinstance(v, str) or not v.strip():
                        self.err("sources[%r] must be a non-empty string" % k)

    def check_sources(self, d):
        src = d.get("sources")
        if not isinstance(src, dict):
            return
        # All paths present in the document (except under "sources").
        present = set()

        def walk(v, path):
            present.add(path)
            if isinstance(v, dict):
                for k, sub in v.items():
                    walk(sub, "%s.%s" % (path, k) if path else k)
            elif isinstance(v, list):
                for i, sub in enumerate(v):
                    walk(sub, "%s.%d" % (path, i))

        for k, v in d.items():
            if k != "sources":
                walk(v, k)
        for k in src:
            if k not in present:
                self.err("sources key %r names no field of this file" % k)

        def covered(path):
            parts = path.split(".")
            for n in range(len(parts), 0, -1):
                if ".".join(parts[:n]) in src:
                    return True
            return False

        # Leaves that need a source.
        needs = []

        def leaves(v, path):
            if isinstance(v, dict):
                for k, sub in v.items():
                    leaves(sub, "%s.%s" % (path, k))
            elif isinstance(v, list):
                for i, sub in enumerate(v):
                    leaves(sub, "%s.%d" % (path, i))
            elif is_number(v) or isinstance(v, bool):
                needs.append(path)

        for k, v in d.items():
            if k in UNSOURCED_TOP or k == "prices":
                continue
            leaves(v, k)
        if isinstance(d.get("memory"), dict) and "type" in d["memory"]:
            needs.append("memory.type")
        if isinstance(d.get("nvlink"), dict) and "scope" in d["nvlink"]:
            needs.append("nvlink.scope")
        for path in needs:
            if not covered(path):
                self.err("%s has no source (add sources[%r] or an ancestor key)" % (path, path))

        for i, p in enumerate(d.get("prices") or []):
            if not isinstance(p, dict):
                continue
            own = isinstance(p.get("source"), str) and p["source"].strip()
            if not own and not covered("prices.%d" % i):
                self.err("prices.%d has no source" % i)


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return json.loads(strip_line_comments(text), object_pairs_hook=_no_dup_pairs)


def format_ids(path):
    """Catalog ids from the 'Hardware catalog ids' table of FORMAT.md."""
    ids = []
    in_table = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "Hardware catalog ids" in line:
                in_table = True
                continue
            if in_table:
                if line.startswith("|"):
                    cell = line.split("|")[1]
                    ids.extend(re.findall(r"[a-z0-9][a-z0-9.-]+", cell))
                elif ids:
                    break
    return [i for i in ids if i not in ("id",)]


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(here, "..", "topologies", "gpus"))
    ap.add_argument("--format", help="FORMAT.md whose catalog ids must all have a file")
    args = ap.parse_args(argv)

    files = sorted(f for f in os.listdir(args.dir) if f.endswith(".json"))
    errors = []
    if not files:
        errors.append("%s: no *.json files" % args.dir)
    for fn in files:
        c = Checker(fn)
        try:
            d = load(os.path.join(args.dir, fn))
        except (ValueError, DuplicateKey) as e:
            c.err("cannot parse: %s" % e)
            errors.extend(c.errors)
            continue
        if not isinstance(d, dict):
            c.err("top level must be an object")
        else:
            c.check_schema(d, fn[:-len(".json")])
            c.check_sources(d)
        errors.extend(c.errors)

    if args.format:
        have = {f[:-len(".json")] for f in files}
        for cid in format_ids(args.format):
            if cid not in have:
                errors.append("%s: catalog id %r has no file in %s" % (args.format, cid, args.dir))

    for e in errors:
        print(e)
    print("%d file(s) checked, %d violation(s)" % (len(files), len(errors)),
          file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
