#!/usr/bin/env python3
"""Fits the compute efficiency of each GPU family against the published runs.

Standard library only. Procedure (also in docs/validation.md, "Method"):

  * One parameter per GPU family: a scale factor s that multiplies the tensor-core efficiencies of
    topologies/efficiency/<family>.json (gemm.max_efficiency of tf32/bf16/fp16/fp8/fp4 and
    attention.efficiency; fp32 CUDA-core GEMMs, the ramp, memory bandwidth and launch overhead stay
    as cited). Efficiencies are capped at 1. Nothing is fitted per row.
  * Rows: the throughput rows (step_time_s, tflops_per_gpu, hw_tflops_per_gpu, mfu, tokens_per_s,
    tokens_per_s_per_gpu) of tests/data/published-runs.csv whose card belongs to the family, on at
    most --max-gpus GPUs (the largest Megatron runs take minutes each), that simulate within
    --timeout. A family needs --min-rows rows to be fitted.
  * Objective: the median of log(predicted throughput / measured throughput) is 0 (for step_time_s
    the ratio is inverted). If throughput scaled exactly with s, this s would minimise the mean
    absolute log error. It is found by a secant search on ln s: s0 = the current files, s1 = s0 ·
    exp(-m0), then one secant step; the evaluated point with the smallest |median| wins. Each
    evaluation is one `stepsim validate --json` run of those rows with the candidate files (a
    temporary data root, --data-dir).
  * The fit is kept only when it lowers the family's throughput MAPE. It is written into the file:
    the scaled values, and for each scaled path a `sources` citation "fit (this project):
    tools/calibrate.py DATE: ..." that names the rows, the scale and the errors before and after, and
    keeps the value from before the fit (so a re-fit starts from the measured value, not from a
    previous fit).

  * --transfer (run after a fit): a family without enough rows gets the row-weighted geometric mean
    of the fitted families' scales, cited as "transferred (this project): ...". A fitted scale stands
    mostly for what training frameworks lose against isolated kernels, which a card without
    published runs loses too; leaving such a card at its raw kernel efficiency would favour it in
    every comparison with a fitted card.

Usage:
  tools/calibrate.py [--stepsim build/stepsim] [-j N] [--families hopper,ampere] [--dry-run]
  tools/calibrate.py --transfer   # scale the families that were not fitted
  tools/calibrate.py --check      # exit 1 when a fitted family's median log error exceeds 2 %
"""
import argparse
import csv
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CSV = os.path.join(ROOT, "tests", "data", "published-runs.csv")
EFF_DIR = os.path.join(ROOT, "topologies", "efficiency")
THROUGHPUT = {"step_time_s", "tflops_per_gpu", "hw_tflops_per_gpu", "mfu", "tokens_per_s", "tokens_per_s_per_gpu"}
SCALED_PRECISIONS = ("tf32", "bf16", "fp16", "fp8", "fp4")
FIT_PREFIX = "fit (this project): tools/calibrate.py"
TRANSFER_PREFIX = "transferred (this project): tools/calibrate.py"
BEFORE = re.compile(r" \| before the fit: value ([0-9.eE+-]+); (.*)$", re.S)
CHECK_TOLERANCE = 0.02


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def load_family(family):
    path = os.path.join(EFF_DIR, family + ".json")
    text = open(path, encoding="utf-8").read()
    return path, text, json.loads(strip_comments(text))


def gpu_family(gpu_id):
    path = os.path.join(ROOT, "topologies", "gpus", gpu_id + ".json")
    if not os.path.exists(path):
        return None
    return json.loads(strip_comments(open(path, encoding="utf-8").read())).get("family")


def family_rows(max_gpus):
    """family -> throughput row ids, in CSV order."""
    rows = {}
    with open(CSV, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["measured_metric"] not in THROUGHPUT:
                continue
            try:
                gpus = int(r["num_gpus"] or 0)
            except ValueError:
                continue
            fam = gpu_family(r["gpu"])
            if fam and gpus <= max_gpus:
                rows.setdefault(fam, []).append(r["id"])
    return rows


def base_values(doc):
    """The scaled paths and the value each had before any fit: path -> (value, original citation)."""
    out = {}
    paths = [f"gemm.max_efficiency.{p}" for p in SCALED_PRECISIONS] + ["attention.efficiency"]
    for path in paths:
        node = doc
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, (int, float)):
            continue
        citation = doc["sources"].get(path)
        if citation is None:  # covered by a parent entry (e.g. "gemm.max_efficiency")
            continue
        m = BEFORE.search(citation)
        out[path] = (float(m.group(1)), m.group(2)) if m else (float(node), citation)
    return out


def compact_ids(ids):
    """"mosaic-h100-mpt1b-r{1,2,10}, nemo2407-pre-r3": the row ids grouped by their text before -rN."""
    groups = {}
    for i in sorted(ids):
        m = re.match(r"^(.*-r)(\d+)$", i)
        prefix, num = (m.group(1), int(m.group(2))) if m else (i, None)
        groups.setdefault(prefix, []).append(num)
    parts = []
    for prefix, nums in sorted(groups.items()):
        nums = sorted(n for n in nums if n is not None)
        if not nums:
            parts.append(prefix)
        elif len(nums) == 1:
            parts.append(f"{prefix}{nums[0]}")
        else:
            parts.append(f"{prefix}{{{','.join(map(str, nums))}}}")
    return ", ".join(parts)


def fit_citation(today, value, v0, s, rows, max_gpus, before, after, original):
    return (f"{FIT_PREFIX} {today}: {value:g} = {v0:g} × {s:.3f} (capped at 1), one scale for the family's "
            f"tensor-core efficiencies fitted so that the median log error of its {len(rows)} throughput rows of "
            f"tests/data/published-runs.csv on ≤ {max_gpus} GPUs is 0 (rows: {compact_ids(rows)}); their MAPE "
            f"{before:.1f} % before, {after:.1f} % after | before the fit: value {v0:g}; {original}")


def scaled(base, s):
    return {path: min(1.0, round(v * s, 4)) for path, (v, _) in base.items()}


def render(text, values, citations=None):
    """The file text with new values at the scaled paths (and new citations); the rest untouched."""
    for path, v in values.items():
        if path == "attention.efficiency":
            text, n = re.subn(r'("attention"\s*:\s*\{\s*"efficiency"\s*:\s*)[0-9.eE+-]+', rf"\g<1>{v:g}", text)
        else:
            prec = path.rsplit(".", 1)[1]
            text, n = re.subn(rf'("max_efficiency"\s*:\s*\{{[^}}]*"{prec}"\s*:\s*)[0-9.eE+-]+', rf"\g<1>{v:g}", text)
        if n != 1:
            sys.exit(f"error: cannot find {path} in the efficiency file text")
    for path, cite in (citations or {}).items():
        key = json.dumps(path)
        text, n = re.subn(rf'({re.escape(key)}\s*:\s*)"(?:[^"\\]|\\.)*"',
                          lambda m: m.group(1) + json.dumps(cite, ensure_ascii=False), text)
        if n != 1:
            sys.exit(f"error: cannot find the source of {path}")
    return text


class DataRoot:
    """A temporary data root: the repository's data, with its own copy of topologies/efficiency."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="stepsim-calibrate-")
        for name in ("models", "scenarios"):
            os.symlink(os.path.join(ROOT, name), os.path.join(self.path, name))
        topo = os.path.join(self.path, "topologies")
        os.mkdir(topo)
        for name in os.listdir(os.path.join(ROOT, "topologies")):
            if name != "efficiency":
                os.symlink(os.path.join(ROOT, "topologies", name), os.path.join(topo, name))
        shutil.copytree(EFF_DIR, os.path.join(topo, "efficiency"))

    def write(self, family, text):
        with open(os.path.join(self.path, "topologies", "efficiency", family + ".json"), "w", encoding="utf-8") as f:
            f.write(text)

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


def validate(args, data_root, ids):
    cmd = [args.stepsim, "--data-dir", data_root, "validate", CSV, "--json", "-j", str(args.jobs),
           "--timeout", str(args.timeout), "--rows", ",".join(ids)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not proc.stdout.strip():
        sys.exit(f"error: stepsim validate failed ({proc.returncode}): {proc.stderr}")
    return {r["id"]: r for r in json.loads(proc.stdout)["rows"]}


def log_errors(result, ids):
    """log(predicted throughput / measured throughput) of the rows that were compared."""
    out = {}
    for i in ids:
        r = result.get(i)
        if not r or r["status"] != "ok" or not r["predicted"] or r["measured"] <= 0:
            continue
        ratio = r["predicted"] / r["measured"]
        out[i] = -math.log(ratio) if r["metric"] == "step_time_s" else math.log(ratio)
    return out


def mape(errors):
    return 100 * statistics.mean(abs(math.expm1(e)) for e in errors.values()) if errors else float("nan")


def evaluate(args, root, families, scales, bases, texts, ids):
    for fam in families:
        root.write(fam, render(texts[fam], scaled(bases[fam], scales[fam])))
    result = validate(args, root.path, [i for fam in families for i in ids[fam]])
    return {fam: log_errors(result, ids[fam]) for fam in families}


def fitted_scale(doc):
    """(scale, rows) of a fitted family's file, or None when it was not fitted."""
    for path, cite in doc["sources"].items():
        if cite.startswith(FIT_PREFIX):
            m = BEFORE.search(cite)
            rows = re.search(r"its (\d+) throughput rows", cite)
            node = doc
            for key in path.split("."):
                node = node[key]
            return node / float(m.group(1)), int(rows.group(1))
    return None


def transfer(families):
    """Scales every family that was not fitted by the row-weighted geometric mean of the fits."""
    fits = {}
    for fam in families:
        _, _, doc = load_family(fam)
        f = fitted_scale(doc)
        if f:
            fits[fam] = f
    if not fits:
        sys.exit("error: no fitted family to transfer from (run the fit first)")
    total = sum(rows for _, rows in fits.values())
    s = math.exp(sum(rows * math.log(scale) for scale, rows in fits.values()) / total)
    named = ", ".join(f"{fam} {scale:.3f} on {rows} rows" for fam, (scale, rows) in sorted(fits.items()))
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    for fam in families:
        if fam in fits:
            continue
        path, text, doc = load_family(fam)
        base = base_values(doc)
        values = scaled(base, s)
        cites = {p: (f"{TRANSFER_PREFIX} {today}: {values[p]:g} = {v0:g} × {s:.3f}, the row-weighted geometric mean "
                     f"of the fitted families' scales ({named}); the scale stands for framework overheads the model "
                     f"does not capture | before the fit: value {v0:g}; {original}")
                 for p, (v0, original) in base.items()}
        with open(path, "w", encoding="utf-8") as f:
            f.write(render(text, values, cites))
        print(f"{fam}: scaled by {s:.3f} (transferred); wrote {os.path.relpath(path, ROOT)}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stepsim", default=os.path.join(ROOT, "build", "stepsim"))
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    p.add_argument("--families", default="", help="comma-separated families (default: every family with rows)")
    p.add_argument("--max-gpus", type=int, default=128)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--min-rows", type=int, default=3)
    p.add_argument("--dry-run", action="store_true", help="fit and print, write nothing")
    p.add_argument("--check", action="store_true", help="evaluate the files as they are; exit 1 if a fitted family is off")
    p.add_argument("--transfer", action="store_true", help="scale the families that were not fitted by the fits' mean")
    args = p.parse_args()
    if args.transfer:
        return transfer(sorted(f[:-5] for f in os.listdir(EFF_DIR) if f.endswith(".json")))

    ids = family_rows(args.max_gpus)
    wanted = [f for f in args.families.split(",") if f] or sorted(ids)
    families = [f for f in wanted if len(ids.get(f, [])) >= args.min_rows]
    for f in wanted:
        if f not in families:
            print(f"{f}: {len(ids.get(f, []))} throughput rows (< {args.min_rows}): not fitted")
    texts, bases, docs = {}, {}, {}
    for fam in families:
        _, texts[fam], docs[fam] = load_family(fam)
        bases[fam] = base_values(docs[fam])
    # s is relative to the values before any fit; the files as they are correspond to s_now.
    s_now = {}
    for fam in families:
        path, (v0, _) = next(iter(bases[fam].items()))
        node = docs[fam]
        for key in path.split("."):
            node = node[key]
        s_now[fam] = node / v0
    root = DataRoot()
    try:
        e0 = evaluate(args, root, families, s_now, bases, texts, ids)
        if args.check:
            bad = 0
            for fam in families:
                fitted = any(FIT_PREFIX in c for c in docs[fam]["sources"].values())
                med = statistics.median(e0[fam].values()) if e0[fam] else float("nan")
                off = fitted and not abs(med) <= CHECK_TOLERANCE
                bad += off
                print(f"{fam}: {len(e0[fam])} rows, median log error {med:+.3f}, MAPE {mape(e0[fam]):.1f} %"
                      f"{' (fitted)' if fitted else ''}{'  OFF' if off else ''}")
            return 1 if bad else 0
        points = {fam: [(s_now[fam], e0[fam])] for fam in families}
        keep = {fam: set(e0[fam]) for fam in families}  # rows compared at the start
        med = lambda errs, fam: statistics.median(v for k, v in errs.items() if k in keep[fam])  # noqa: E731
        s1 = {fam: s_now[fam] * math.exp(-med(e0[fam], fam)) for fam in families}
        e1 = evaluate(args, root, families, s1, bases, texts, ids)
        s2 = {}
        for fam in families:
            points[fam].append((s1[fam], e1[fam]))
            m0, m1 = med(e0[fam], fam), med(e1[fam], fam)
            slope = (m1 - m0) / math.log(s1[fam] / s_now[fam]) if s1[fam] != s_now[fam] else 1.0
            slope = min(1.5, max(0.2, slope))  # throughput grows with s, at most about linearly
            s2[fam] = s1[fam] * math.exp(-m1 / slope)
        e2 = evaluate(args, root, families, s2, bases, texts, ids)
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        for fam in families:
            points[fam].append((s2[fam], e2[fam]))
            best_s, best_e = min(points[fam], key=lambda pe: abs(med(pe[1], fam)) if pe[1] else 1e9)
            before, after = mape({k: v for k, v in e0[fam].items() if k in keep[fam]}), \
                mape({k: v for k, v in best_e.items() if k in keep[fam]})
            trace = ", ".join(f"s={s:.3f}: median {med(e, fam):+.3f}" for s, e in points[fam])
            print(f"{fam}: {len(keep[fam])} rows; {trace}; MAPE {before:.1f} % -> {after:.1f} % at s={best_s:.3f}")
            if args.dry_run or not after < before - 0.05 or abs(best_s - s_now[fam]) < 1e-4:
                print(f"{fam}: not written" + (" (dry run)" if args.dry_run else " (no improvement)"))
                continue
            values = scaled(bases[fam], best_s)
            cites = {}
            for path, (v0, original) in bases[fam].items():
                cites[path] = fit_citation(today, values[path], v0, best_s, keep[fam], args.max_gpus, before, after,
                                           original)
            path = os.path.join(EFF_DIR, fam + ".json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(render(texts[fam], values, cites))
            print(f"{fam}: wrote {os.path.relpath(path, ROOT)}")
    finally:
        root.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
