#!/usr/bin/env python3
"""Accuracy of stepsim on published runs: docs/validation.md and the CI regression guard.

Standard library only. Every figure comes from `stepsim validate --json` (never typed by hand).

  tools/validation_report.py docs     [--stepsim build/stepsim] [--json RESULT] [-j N] [--timeout S]
      run `stepsim validate tests/data/published-runs.csv --json` (or read a saved RESULT of it)
      and write docs/validation.md: targets, summary, per-metric and per-source tables, the worst
      rows, skipped rows with reasons, the calibration in force and the method.
  tools/validation_report.py check    --stepsim PATH [--baseline tests/data/validation-baseline.json]
      run validate on the baseline's rows and fail (exit 1) when a recorded figure got worse by
      more than the baseline's tolerance (1 percentage point) or a fits/oom verdict turned wrong.
  tools/validation_report.py record   --stepsim PATH [--baseline ...]
      re-run the same rows and write the baseline with today's figures (after a deliberate model
      change; review the diff).

The CI subset (the baseline's "rows") is every memory and fits/oom row plus the throughput rows
on at most `ci_max_gpus` GPUs: the large Megatron runs take minutes each on a CI machine. The full
file feeds the docs.
"""
import argparse
import csv
import datetime
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CSV = os.path.join(ROOT, "tests", "data", "published-runs.csv")
BASELINE = os.path.join(ROOT, "tests", "data", "validation-baseline.json")
DOC = os.path.join(ROOT, "docs", "validation.md")
THROUGHPUT = {"step_time_s", "tflops_per_gpu", "hw_tflops_per_gpu", "mfu", "tokens_per_s", "tokens_per_s_per_gpu"}
MEMORY = {"peak_mem_gib", "peak_mem_gb"}
VERDICT = {"fits", "oom"}
TARGETS = {"throughput": (10.0, 25.0), "memory": (10.0, None)}  # issue 7: MAPE, max in percent


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def run_validate(stepsim, csv_path, jobs=None, timeout=None, rows=None):
    """Runs `stepsim validate --json`; returns (result, wall seconds)."""
    cmd = [stepsim, "validate", csv_path, "--json"]
    if jobs:
        cmd += ["-j", str(jobs)]
    if timeout:
        cmd += ["--timeout", str(timeout)]
    if rows:
        cmd += ["--rows", ",".join(rows)]
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        sys.exit(f"error: {' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout), wall


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def value(v):
    if v is None:
        return "–"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 10 else f"{v:.3f}"


def stats_cells(s):
    if s["count"] == 0:
        cells = ["0", "–", "–", "–", "–"]
    else:
        cells = [str(s["count"]), fmt(s["mape"]), fmt(s["median"]), fmt(s["max"]), f"{s['bias']:+.1f}"]
    cells.append(f"{s['correct']}/{s['verdicts']}" if s["verdicts"] else "–")
    cells.append(str(s["skipped"]))
    return cells


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def kind(metric):
    return "throughput" if metric in THROUGHPUT else "memory" if metric in MEMORY else "verdict"


def calibration_lines():
    """The fit provenance written by tools/calibrate.py into topologies/efficiency/*.json."""
    folder = os.path.join(ROOT, "topologies", "efficiency")
    lines = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        text = open(os.path.join(folder, name), encoding="utf-8").read()
        marker = '"fit (this project): tools/calibrate.py'
        if marker not in text:
            marker = '"transferred (this project): tools/calibrate.py'
        if marker not in text:
            lines.append(f"| {name[:-5]} | not fitted (values as cited in the file) |")
            continue
        start = text.index(marker) + 1
        end = text.index(" | before the fit:", start)
        lines.append(f"| {name[:-5]} | {text[start:end]} |")
    return "\n".join(["| family | efficiency calibration |", "|---|---|"] + lines)


METHOD = """\
## Method

- **Data.** `tests/data/published-runs.csv` (format: [formats/published-runs.md](formats/published-runs.md)):
  one published measurement per row with the configuration that produced it.
- **Prediction.** `stepsim validate` turns each row into a scenario (`sim/scenario/published_runs.cpp`;
  empty fields get the documented defaults, listed per row by `stepsim validate`). The mapping never
  reads `measured_value`. Each row runs in its own process (`stepsim run ROW.json --json`; SimGrid
  allows one engine per process) with `simulation.fold_replicas` on: when the route check shows that
  data-parallel replicas share no link, one replica is simulated and the data-parallel collectives
  are timed analytically, which gives the same step time at a fraction of the cost. Memory and
  fits/oom rows run with `--no-engine` (memory needs no simulation).
- **Comparison.** The prediction is read in the row's metric: `step_time_s`; `tflops_per_gpu` =
  model FLOPs (no recompute) per second per GPU; `hw_tflops_per_gpu` = the same with the recomputed
  forward counted (Megatron's eq. 3); `mfu` in percent of the card's dense peak at the row's
  precision; `tokens_per_s`, `tokens_per_s_per_gpu`; `peak_mem_gib` = PyTorch's reserved peak in
  GiB; `peak_mem_gb` = device memory (nvidia-smi) in GB; `fits`/`oom` = the device-or-host OOM
  verdict. error = (predicted − measured) / measured × 100, signed; MAPE is the mean of |error|,
  median and max are of |error|, bias is the mean signed error.
- **Calibration** (`tools/calibrate.py`, stdlib Python). One scale factor *s* per GPU family multiplies
  the tensor-core efficiencies of `topologies/efficiency/<family>.json` (`gemm.max_efficiency` of
  every precision and `attention.efficiency`), everything else fixed. *s* is chosen so that the
  median of log(predicted / measured) over that family's throughput rows is 0 (the minimiser of the
  mean absolute log error if throughput scaled exactly with *s*); it is found by a secant search on
  ln *s* (start *s* = 1, then a step of −median, then the secant), each step one `stepsim validate`
  run of the family's throughput rows. Efficiencies are capped at 1. Nothing is fitted per row, and
  the memory model is not fitted (its overheads are cited constants,
  `topologies/framework/memory-overheads.json`). The result, the rows used and the errors before and
  after are written into the file's `sources` (a `fit (this project): tools/calibrate.py …` citation
  that keeps the measured value it started from); `tools/calibrate.py --check` re-evaluates and
  fails when a family's median log error is off by more than 2 %. Families without enough rows
  (blackwell, blackwell-pro, cdna3, volta) get the row-weighted geometric mean of the fitted scales
  (`tools/calibrate.py --transfer`, cited `transferred (this project): …`): the scale stands mostly
  for framework overheads every card pays, and an unscaled card would win every comparison with a
  fitted one for no physical reason.

## Regression guard

`tests/validation_regression.sh` (ctest `validate.regression`) runs
  `stepsim validate` on the rows listed in `tests/data/validation-baseline.json` and fails when MAPE,
  median or max of the throughput or memory rows get worse than the recorded figures by more than 1
  point, or when more fits/oom verdicts are wrong. After a deliberate model change, re-record with
  `tools/validation_report.py record --stepsim build/stepsim` and commit the new baseline.

## Command

`stepsim validate FILE.csv [-j N] [--json] [--rows id,id…] [--timeout S] [--dump DIR]`
  works on any CSV in the published-runs format. `-j` runs N rows at once (default: the cores);
  output is in CSV order whatever N is. `--timeout` skips a row whose simulation runs longer (listed
  with the reason); `--dump` writes each row's scenario so that `stepsim run DIR/ID.json` reproduces
  it. Exit status: 0, 2 for a bad CSV or option, 1 when a simulation failed (crash or internal
  error; the row is listed as skipped with `FAILED`).

## JSON output

`stepsim validate --json` prints `{"rows": [...], "summary": {...}}`:

- each row: `id`, `metric`, `measured` (the CSV's `measured_value`), `predicted` (in the metric's
  unit; for `fits`/`oom` the simulated device peak in GB; `null` when skipped), `error_pct`
  ((predicted − measured) / measured × 100; `null` for fits/oom and skipped rows), `correct` (fits/oom
  rows: the verdict matches; else `null`), `tight` (a fits/oom row predicted to fit without room for the
  allocator's spare cache, `memory.tight` of the run), `status` (`ok` or `skipped`), `reason` (why skipped, else
  `""`), `defaults` (each documented default applied, `column=value (why)`).
- `summary`: `rows`, `compared`, `skipped`, `failed`; then `throughput`, `memory`, `verdicts`, `all`,
  `by_metric.<metric>` and `by_source.<source>`, each `{count, mape, median, max, bias, verdicts,
  correct, skipped}`: `count` rows with an error, the four statistics in percent (0 when `count` is
  0), `verdicts`/`correct` over fits/oom rows, `skipped` rows of that group.

## Regenerating

This page: `tools/validation_report.py docs [-j N] [--timeout S]` (a full run: see the wall time at
the top). The calibration: `tools/calibrate.py` (see Method), then this page, then the baseline.
"""


def write_docs(result, wall, csv_rows, jobs, timeout):
    rows, s = result["rows"], result["summary"]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = ["# Validation against published runs", ""]
    out.append(f"Generated by `tools/validation_report.py docs` on {today} from `stepsim validate "
               f"tests/data/published-runs.csv --json -j {jobs}{f' --timeout {timeout:g}' if timeout else ''}` "
               f"({s['rows']} rows, {wall:.0f} s) — do not edit by hand.")
    out.append("")
    out.append("## Targets (issue 7)")
    out.append("")
    target_rows = []
    for k, label in (("throughput", "throughput (step time, TFLOP/s, MFU, tokens/s)"), ("memory", "peak memory")):
        st = s[k]
        mape_t, max_t = TARGETS[k]
        got = f"MAPE {fmt(st['mape'])} %" + (f", max {fmt(st['max'])} %" if max_t else "") if st["count"] else "no rows"
        want = f"MAPE ≤ {mape_t:.0f} %" + (f", max ≤ {max_t:.0f} %" if max_t else "")
        met = st["count"] > 0 and st["mape"] <= mape_t and (max_t is None or st["max"] <= max_t)
        target_rows.append([label, want, got, st["count"], "met" if met else "**not met**"])
    v = s["verdicts"]
    target_rows.append(["fits/oom verdicts", "all right", f"{v['correct']}/{v['verdicts']} right", v["verdicts"],
                        "met" if v["verdicts"] and v["correct"] == v["verdicts"] else "**not met**"])
    out.append(table(["metrics", "target", "achieved", "rows", ""], target_rows))
    out.append("")
    out.append("*scored*: rows with an error (throughput, memory); fits/oom rows count under *verdicts right*. "
               "MAPE, median and max are of |error|, bias is the mean signed error, all in percent.")
    out.append("")
    out.append(f"{s['compared']} rows compared, {s['skipped']} skipped ({s['failed']} of them failed), "
               "out of " f"{s['rows']}. Error = (predicted − measured) / measured.")
    out.append("")
    header = ["", "scored", "MAPE %", "median %", "max %", "bias %", "verdicts right", "skipped"]
    out.append("## Summary")
    out.append("")
    out.append(table(header, [["throughput"] + stats_cells(s["throughput"]), ["memory"] + stats_cells(s["memory"]),
                              ["fits/oom"] + stats_cells(s["verdicts"])]))
    out.append("")
    out.append("### By metric")
    out.append("")
    out.append(table(["metric"] + header[1:], [[f"`{m}`"] + stats_cells(st) for m, st in s["by_metric"].items()]))
    out.append("")
    out.append("### By source")
    out.append("")
    out.append(table(["source"] + header[1:], [[src] + stats_cells(st) for src, st in s["by_source"].items()]))
    out.append("")
    out.append("## Worst rows")
    out.append("")
    out.append("The 20 rows with the largest |error|, and every wrong fits/oom verdict. *config* is from the CSV "
               "(GPUs × card, tp/pp/dp, sharding, recompute); *notes* are the CSV's caveats, shortened.")
    out.append("")
    scored = [r for r in rows if r["status"] == "ok" and r["error_pct"] is not None]
    scored.sort(key=lambda r: (-abs(r["error_pct"]), r["id"]))
    wrong = [r for r in rows if r["status"] == "ok" and r["correct"] is False]

    def config(row_id):
        c = csv_rows.get(row_id, {})
        par = "/".join(c.get(k) or "-" for k in ("tp", "pp", "dp"))
        return (f"{c.get('model', '')}, {c.get('num_gpus', '')}× {c.get('gpu', '')}, tp/pp/dp {par}, "
                f"{c.get('sharding') or 'no sharding'}, recompute {c.get('recompute') or 'none'}")

    def notes(row_id):
        n = csv_rows.get(row_id, {}).get("notes", "")
        return n if len(n) <= 160 else n[:157] + "…"

    worst = [[f"`{r['id']}`", r["metric"], value(r["measured"]), value(r["predicted"]), f"{r['error_pct']:+.1f}",
              config(r["id"]), notes(r["id"])] for r in scored[:20]]
    worst += [[f"`{r['id']}`", r["metric"], value(r["measured"]), value(r["predicted"]) + " GB peak",
               "wrong verdict" + (" (fit predicted as tight)" if r.get("tight") else ""), config(r["id"]),
               notes(r["id"])] for r in wrong]
    out.append(table(["row", "metric", "measured", "predicted", "error %", "config", "notes"], worst))
    out.append("")
    skipped = [r for r in rows if r["status"] == "skipped"]
    out.append(f"## Skipped rows ({len(skipped)})")
    out.append("")
    if skipped:
        out.append(table(["row", "metric", "reason"], [[f"`{r['id']}`", r["metric"], r["reason"]] for r in skipped]))
    else:
        out.append("None.")
    out.append("")
    out.append("## Calibration in force")
    out.append("")
    out.append(calibration_lines())
    out.append("")
    out.append(METHOD)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"wrote {os.path.relpath(DOC, ROOT)}: throughput MAPE {fmt(s['throughput']['mape'])} %, "
          f"memory MAPE {fmt(s['memory']['mape'])} %, verdicts {v['correct']}/{v['verdicts']}")


GUARDED = ("mape", "median", "max")


def figures(summary):
    return {
        "throughput": {k: round(summary["throughput"][k], 2) for k in GUARDED} | {"count": summary["throughput"]["count"]},
        "memory": {k: round(summary["memory"][k], 2) for k in GUARDED} | {"count": summary["memory"]["count"]},
        "verdicts": {"count": summary["verdicts"]["verdicts"],
                     "wrong": summary["verdicts"]["verdicts"] - summary["verdicts"]["correct"]},
    }


def ci_rows(csv_rows, max_gpus):
    ids = []
    for rid, c in csv_rows.items():
        try:
            gpus = int(c.get("num_gpus") or 0)
        except ValueError:
            gpus = 0
        if c["measured_metric"] not in THROUGHPUT or gpus <= max_gpus:
            ids.append(rid)
    return ids


def record(args):
    csv_rows = read_csv(CSV)
    old = json.load(open(args.baseline)) if os.path.exists(args.baseline) else {}
    max_gpus = old.get("ci_max_gpus", 16)
    rows = ci_rows(csv_rows, max_gpus)
    result, wall = run_validate(args.stepsim, CSV, jobs=args.jobs, timeout=old.get("timeout_s", 120), rows=rows)
    baseline = {
        "comment": "Regression guard of `stepsim validate` (tests/validation_regression.sh). Written by "
                   "`tools/validation_report.py record`; a figure may get worse by at most `tolerance_points`.",
        "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "csv": "tests/data/published-runs.csv",
        "ci_max_gpus": max_gpus,
        "timeout_s": old.get("timeout_s", 120),
        "tolerance_points": 1.0,
        "figures": figures(result["summary"]),
        "rows": rows,
    }
    with open(args.baseline, "w", encoding="utf-8") as f:
        json.dump(baseline, f, indent=2)
        f.write("\n")
    print(f"recorded {len(rows)} rows in {wall:.0f} s: {json.dumps(baseline['figures'])}")


def check(args):
    baseline = json.load(open(args.baseline))
    if args.result:
        result = json.load(open(args.result))
    else:
        result, _ = run_validate(args.stepsim, os.path.join(ROOT, baseline["csv"]), jobs=args.jobs,
                                 timeout=baseline.get("timeout_s"), rows=baseline["rows"])
    now, then = figures(result["summary"]), baseline["figures"]
    tol = baseline["tolerance_points"]
    problems = []
    for k in ("throughput", "memory"):
        if now[k]["count"] < then[k]["count"]:
            problems.append(f"{k}: {now[k]['count']} rows compared, {then[k]['count']} recorded (rows now skipped)")
        for stat in GUARDED:
            if now[k][stat] > then[k][stat] + tol:
                problems.append(f"{k} {stat} |error| {now[k][stat]:.2f} % > recorded {then[k][stat]:.2f} % + {tol}")
    if now["verdicts"]["wrong"] > then["verdicts"]["wrong"]:
        problems.append(f"fits/oom: {now['verdicts']['wrong']} wrong verdicts, {then['verdicts']['wrong']} recorded")
    print(f"now:      {json.dumps(now)}\nrecorded: {json.dumps(then)}")
    for p in problems:
        print("REGRESSION:", p)
    if problems:
        print("fix the model, or after a deliberate change re-record: tools/validation_report.py record --stepsim build/stepsim")
        return 1
    print("ok: no figure worse than recorded by more than", tol, "point")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("docs", "check", "record"):
        q = sub.add_parser(name)
        q.add_argument("--stepsim", default=os.path.join(ROOT, "build", "stepsim"))
        q.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
        q.add_argument("--baseline", default=BASELINE)
        if name == "docs":
            q.add_argument("--json", help="a saved `stepsim validate --json` result of the full CSV")
            q.add_argument("--timeout", type=float, default=None, help="seconds per row")
            q.add_argument("--wall", type=float, default=None, help="wall seconds of the saved run")
            q.add_argument("--save", help="also write the `stepsim validate --json` result to this file")
        if name == "check":
            q.add_argument("--result", help="a saved `stepsim validate --json` result of the baseline rows")
    args = p.parse_args()
    if args.cmd == "docs":
        if args.json:
            result, wall = json.load(open(args.json)), args.wall or float("nan")
        else:
            result, wall = run_validate(args.stepsim, CSV, jobs=args.jobs, timeout=args.timeout)
            if args.save:
                with open(args.save, "w", encoding="utf-8") as f:
                    json.dump(result, f, indent=2)
        write_docs(result, wall, read_csv(CSV), args.jobs, args.timeout)
        return 0
    if args.cmd == "record":
        record(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
