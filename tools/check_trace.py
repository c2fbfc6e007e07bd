#!/usr/bin/env python3
"""Checks a Chrome JSON trace (.json or .json.gz) against the rules of Perfetto's JSON importer
(docs/formats/trace.md, "What the checker enforces"): what the importer would drop, misplace or
rewrite silently is an error here. Standard library only.

  tools/check_trace.py TRACE [--require-thread NAME] [--require-process TEXT] [--require-counter TEXT]
                             [--min-flows N] [--min-async N] [--min-slices N]

Exit status 0 when the trace passes, 1 with one line per problem otherwise, 2 on usage errors.
Importable: check(data) returns the list of problems of a parsed trace.
"""
import argparse
import gzip
import json
import math
import sys

PHASES = set("XBEiICbenMstf")
TOP_LEVEL = {"traceEvents", "systemTraceEvents", "metadata"}
METADATA_NAMES = {"process_name", "thread_name", "process_sort_index", "thread_sort_index"}
MAX_TS_US = 2 ** 41          # beyond this a double no longer holds whole nanoseconds
MAX_ID = 2 ** 32             # pid/tid are coerced to uint32; out of range becomes 0
THREAD_PHASES = set("XBEiIstf")  # events that live on a thread track
MAX_DEPTH = 512


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def to_ns(v):
    return int(round(v * 1000))


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, index, event, message):
        where = f"event {index}" if index is not None else "trace"
        text = json.dumps(event, ensure_ascii=False)[:160] if event is not None else ""
        self.problems.append(f"{where}: {message}" + (f": {text}" if text else ""))

    # -- per event -------------------------------------------------------------------------
    def time_field(self, i, e, key, required):
        if key not in e:
            if required:
                self.fail(i, e, f"missing '{key}'")
            return None
        v = e[key]
        if not is_number(v):
            self.fail(i, e, f"'{key}' is not a finite number")
            return None
        if v < 0:
            self.fail(i, e, f"negative '{key}' (the importer drops the event)")
            return None
        if key == "ts" and v >= MAX_TS_US:
            self.fail(i, e, f"'ts' {v} µs is past 2^41 µs: nanoseconds are no longer exact (use step-relative time)")
        if abs(v * 1000 - round(v * 1000)) > 1e-3:
            self.fail(i, e, f"'{key}' {v} has more than nanosecond precision")
        return to_ns(v)

    def id_field(self, i, e, key, required):
        if key not in e:
            if required:
                self.fail(i, e, f"missing '{key}'")
            return None
        v = e[key]
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(i, e, f"'{key}' is not an integer (string ids are an unofficial hack)")
            return None
        if v == 0 and key == "tid":
            self.fail(i, e, "tid 0 (the importer rewrites it to the pid)")
            return None
        if not 1 <= v < MAX_ID:
            self.fail(i, e, f"'{key}' {v} is outside [1, 2^32) (the importer turns it into 0)")
            return None
        return v

    def check_event(self, i, e):
        if not isinstance(e, dict):
            self.fail(i, e, "an event is not an object")
            return None
        ph = e.get("ph")
        if ph is None:
            self.fail(i, e, "missing 'ph'")
            return None
        if ph not in PHASES:
            self.fail(i, e, f"unknown phase '{ph}'")
            return None
        ts = self.time_field(i, e, "ts", ph != "M")
        dur = self.time_field(i, e, "dur", ph == "X") if ph == "X" else None
        pid = self.id_field(i, e, "pid", True)
        tid = self.id_field(i, e, "tid", ph in THREAD_PHASES or e.get("name") in ("thread_name", "thread_sort_index"))
        name = e.get("name")
        if ph != "E" and (not isinstance(name, str) or not name):
            self.fail(i, e, "missing or empty 'name'")
        if "args" in e and not isinstance(e["args"], dict):
            self.fail(i, e, "'args' is not an object")
        return {"i": i, "e": e, "ph": ph, "ts": ts, "dur": dur, "pid": pid, "tid": tid, "name": name}

    # -- whole trace -----------------------------------------------------------------------
    def check_metadata(self, events):
        names = {}
        seen_other = False
        order = []
        for ev in events:
            e = ev["e"]
            if ev["ph"] != "M":
                seen_other = True
                continue
            if seen_other:
                self.fail(ev["i"], e, "metadata event after other events (metadata comes first, sorted)")
            order.append(((ev["pid"] or 0), (ev["tid"] or 0), ev["name"] or ""))
            if ev["name"] not in METADATA_NAMES:
                self.fail(ev["i"], e, f"metadata '{ev['name']}' is not one the importer reads")
                continue
            args = e.get("args") if isinstance(e.get("args"), dict) else {}
            if ev["name"].endswith("_name"):
                if not isinstance(args.get("name"), str) or not args.get("name"):
                    self.fail(ev["i"], e, "a name metadata event without a string args.name")
                    continue
                key = (ev["pid"],) if ev["name"] == "process_name" else (ev["pid"], ev["tid"])
                if key in names:
                    self.fail(ev["i"], e, "a second name for the same process or thread")
                names[key] = args["name"]
            elif not isinstance(args.get("sort_index"), int) or isinstance(args.get("sort_index"), bool):
                self.fail(ev["i"], e, "a sort metadata event without an integer args.sort_index")
        if order != sorted(order):
            self.fail(None, None, "metadata events are not sorted by (pid, tid, name)")
        for ev in events:
            if ev["ph"] == "M" or ev["pid"] is None:
                continue
            if (ev["pid"],) not in names:
                self.fail(ev["i"], ev["e"], f"pid {ev['pid']} has no process_name")
                names[(ev["pid"],)] = "?"  # report once
            if ev["ph"] in THREAD_PHASES and ev["tid"] is not None and (ev["pid"], ev["tid"]) not in names:
                self.fail(ev["i"], ev["e"], f"thread {ev['pid']}/{ev['tid']} has no thread_name")
                names[(ev["pid"], ev["tid"])] = "?"
        return names

    def check_nesting(self, events):
        by_thread = {}
        for ev in events:
            if ev["ph"] == "X" and None not in (ev["ts"], ev["dur"], ev["pid"], ev["tid"]):
                by_thread.setdefault((ev["pid"], ev["tid"]), []).append(ev)
        for thread, slices in by_thread.items():
            slices.sort(key=lambda ev: (ev["ts"], -ev["dur"]))
            stack = []
            for ev in slices:
                end = ev["ts"] + ev["dur"]
                while stack and stack[-1] <= ev["ts"]:
                    stack.pop()
                if stack and end > stack[-1]:
                    self.fail(ev["i"], ev["e"], f"slice partially overlaps an earlier slice on thread {thread[0]}/{thread[1]}"
                              " (the importer drops it or moves it to an overflow track)")
                    continue
                stack.append(end)
                if len(stack) > MAX_DEPTH:
                    self.fail(ev["i"], ev["e"], f"slices nest deeper than {MAX_DEPTH}")
        return by_thread

    def check_begin_end(self, events):
        open_b = {}
        for ev in sorted((ev for ev in events if ev["ph"] in "BE" and ev["ts"] is not None),
                         key=lambda ev: (ev["ts"], ev["i"])):
            key = (ev["pid"], ev["tid"])
            if ev["ph"] == "B":
                open_b.setdefault(key, []).append(ev)
            elif not open_b.get(key):
                self.fail(ev["i"], ev["e"], "'E' without an open 'B' on its thread")
            else:
                open_b[key].pop()
        for stack in open_b.values():
            for ev in stack:
                self.fail(ev["i"], ev["e"], "'B' never closed by an 'E'")

    def async_key(self, ev):
        e = ev["e"]
        if "id" in e:
            return (e.get("cat"), "global", str(e["id"]))
        id2 = e.get("id2")
        if isinstance(id2, dict) and len(id2) == 1 and next(iter(id2)) in ("local", "global"):
            scope, value = next(iter(id2.items()))
            return (e.get("cat"), ev["pid"] if scope == "local" else "global", str(value))
        return None

    def check_async(self, events):
        open_b, pairs = {}, 0
        for ev in sorted((ev for ev in events if ev["ph"] in "ben" and ev["ts"] is not None),
                         key=lambda ev: (ev["ts"], ev["ph"] != "e", ev["i"])):
            key = self.async_key(ev)
            if key is None:
                self.fail(ev["i"], ev["e"], "async event without 'id' or a one-key 'id2' (local or global)")
                continue
            if ev["ph"] == "b":
                open_b.setdefault(key, []).append(ev)
            elif ev["ph"] == "e":
                if not open_b.get(key):
                    self.fail(ev["i"], ev["e"], "async 'e' without an open 'b' of the same cat and id")
                else:
                    open_b[key].pop()
                    pairs += 1
        for stack in open_b.values():
            for ev in stack:
                self.fail(ev["i"], ev["e"], "async 'b' never closed by an 'e'")
        return pairs

    def check_counters(self, events):
        count = 0
        for ev in events:
            if ev["ph"] != "C":
                continue
            count += 1
            args = ev["e"].get("args")
            if not isinstance(args, dict) or not args:
                self.fail(ev["i"], ev["e"], "counter without values in 'args'")
                continue
            for key, value in args.items():
                if not is_number(value):
                    self.fail(ev["i"], ev["e"], f"counter value '{key}' is not a finite number")
        return count

    def check_flows(self, events, slices_by_thread):
        v2 = [ev for ev in events if "bind_id" in ev["e"]]
        v1 = [ev for ev in events if ev["ph"] in "stf"]
        if v1 and v2:
            self.fail(None, None, "flows in both the v1 (s/t/f) and v2 (bind_id) styles: their ids collide")
        flows = {}
        for ev in v2:
            e = ev["e"]
            if ev["ph"] not in "XBbn":
                self.fail(ev["i"], e, "bind_id on an event that is not a slice (X, B, b, n)")
                continue
            flow_in, flow_out = e.get("flow_in") is True, e.get("flow_out") is True
            if not (flow_in or flow_out):
                self.fail(ev["i"], e, "bind_id without flow_in or flow_out")
                continue
            flows.setdefault(json.dumps(e["bind_id"]), []).append((ev, flow_in, flow_out))
        for flow_id, members in flows.items():
            starts = [m for m in members if m[2] and not m[1]]
            ends = [m for m in members if m[1] and not m[2]]
            if len(starts) != 1 or len(ends) != 1:
                self.fail(members[0][0]["i"], members[0][0]["e"],
                          f"flow {flow_id} has {len(starts)} start(s) and {len(ends)} end(s), not one of each"
                          + (" (flow_duplicate_id)" if len(starts) > 1 else ""))
                continue
            # The importer binds flow events in time order: an end (or step) at or before the start
            # would be "flow_end_without_start", and equal times have no defined order.
            times = sorted(m[0]["ts"] for m in members)
            if len(set(times)) != len(times) or starts[0][0]["ts"] != times[0] or ends[0][0]["ts"] != times[-1]:
                self.fail(starts[0][0]["i"], starts[0][0]["e"],
                          f"flow {flow_id} does not run strictly forward in time from its start to its end")
        v1_flows = {}
        for ev in v1:
            e = ev["e"]
            if "id" not in e:
                self.fail(ev["i"], e, "flow event without 'id'")
                continue
            if ev["ph"] == "f" and e.get("bp") != "e":
                self.fail(ev["i"], e, "flow end without \"bp\":\"e\" binds to the next slice, not the enclosing one")
            inside = any(s["ts"] <= ev["ts"] <= s["ts"] + s["dur"] for s in slices_by_thread.get((ev["pid"], ev["tid"]), []))
            if not inside:
                self.fail(ev["i"], e, "flow event outside every slice of its thread")
            v1_flows.setdefault((json.dumps(e["id"]), e.get("cat"), e.get("name")), []).append(ev)
        for key, members in v1_flows.items():
            if sum(1 for m in members if m["ph"] == "s") != 1:
                self.fail(members[0]["i"], members[0]["e"], f"flow {key[0]} needs exactly one 's'")
        return len(flows) + len(v1_flows)

    def check(self, data):
        if isinstance(data, dict):
            for key in data:
                if key not in TOP_LEVEL:
                    self.fail(None, None, f"top-level key '{key}' is not read by the importer"
                              + (" (ignored since v16: omit it)" if key == "displayTimeUnit" else ""))
            raw = data.get("traceEvents")
            if not isinstance(raw, list):
                self.fail(None, None, "no 'traceEvents' array")
                return self.problems
        elif isinstance(data, list):
            raw = data
        else:
            self.fail(None, None, "a trace is an object with 'traceEvents' or an array of events")
            return self.problems
        events = [ev for ev in (self.check_event(i, e) for i, e in enumerate(raw)) if ev is not None]
        names = self.check_metadata(events)
        slices = self.check_nesting(events)
        self.check_begin_end(events)
        counts = {
            "slices": sum(1 for ev in events if ev["ph"] == "X"),
            "async": self.check_async(events),
            "counter_events": self.check_counters(events),
            "flows": self.check_flows(events, slices),
            "processes": sum(1 for k in names if len(k) == 1 and names[k] != "?"),
            "threads": sum(1 for k in names if len(k) == 2 and names[k] != "?"),
        }
        self.counts = counts
        declared = data.get("metadata", {}).get("stepsim", {}).get("counts") if isinstance(data, dict) else None
        if isinstance(declared, dict):
            for key, value in declared.items():
                if counts.get(key) != value:
                    self.fail(None, None, f"the trace declares {value} {key} but holds {counts.get(key)}")
        return self.problems


def check(data):
    return Checker().check(data)


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--require-thread", action="append", default=[], help="a thread with this name must exist")
    parser.add_argument("--require-process", action="append", default=[], help="a process whose name contains this")
    parser.add_argument("--require-counter", action="append", default=[], help="a counter event whose name contains this")
    parser.add_argument("--min-flows", type=int, default=0)
    parser.add_argument("--min-async", type=int, default=0)
    parser.add_argument("--min-slices", type=int, default=1)
    args = parser.parse_args()
    try:
        data = load(args.trace)
    except (OSError, ValueError) as e:
        print(f"{args.trace}: cannot read a JSON trace: {e}")
        return 1
    checker = Checker()
    problems = checker.check(data)
    events = data["traceEvents"] if isinstance(data, dict) and isinstance(data.get("traceEvents"), list) else \
        (data if isinstance(data, list) else [])
    meta = [e for e in events if isinstance(e, dict) and e.get("ph") == "M"]
    thread_names = {e.get("args", {}).get("name") for e in meta if e.get("name") == "thread_name"}
    process_names = [e.get("args", {}).get("name", "") for e in meta if e.get("name") == "process_name"]
    counter_names = {e.get("name", "") for e in events if isinstance(e, dict) and e.get("ph") == "C"}
    for name in args.require_thread:
        if name not in thread_names:
            problems.append(f"required: no thread named '{name}' (threads: {sorted(n for n in thread_names if n)})")
    for text in args.require_process:
        if not any(text in p for p in process_names):
            problems.append(f"required: no process whose name contains '{text}'")
    for text in args.require_counter:
        if not any(text in c for c in counter_names):
            problems.append(f"required: no counter whose name contains '{text}'")
    counts = getattr(checker, "counts", {})
    for key, minimum in (("flows", args.min_flows), ("async", args.min_async), ("slices", args.min_slices)):
        if counts.get(key, 0) < minimum:
            problems.append(f"required: at least {minimum} {key}, found {counts.get(key, 0)}")
    for p in problems[:40]:
        print(f"{args.trace}: {p}")
    if len(problems) > 40:
        print(f"{args.trace}: … and {len(problems) - 40} more")
    if problems:
        return 1
    print(f"{args.trace}: ok ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
