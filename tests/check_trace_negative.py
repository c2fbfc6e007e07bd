#!/usr/bin/env python3
"""The trace checker (tools/check_trace.py) must reject what Perfetto's importer would drop,
misplace or rewrite. A small valid trace passes; each broken copy fails with the expected
problem. With a real trace (second argument), the same kinds of damage are done to it too.

  check_trace_negative.py TOOLS_DIR [REAL_TRACE.json]
"""
import copy
import json
import sys

sys.path.insert(0, sys.argv[1])
import check_trace  # noqa: E402


def meta(pid, tid, name, value):
    e = {"ph": "M", "pid": pid, "name": name,
         "args": {"sort_index" if name.endswith("sort_index") else "name": value}}
    if tid:
        e["tid"] = tid
    return e


def valid_trace():
    return {
        "traceEvents": [
            meta(1, 0, "process_name", "node 0 · GPU 0 · test"),
            meta(1, 0, "process_sort_index", 1),
            meta(1, 1, "thread_name", "compute"),
            meta(1, 2, "thread_name", "comm-pp"),
            meta(2, 0, "process_name", "node 0 · GPU 1 · test"),
            meta(2, 2, "thread_name", "comm-pp"),
            {"ph": "X", "pid": 1, "tid": 1, "ts": 0.0, "dur": 10.0, "name": "outer", "args": {}},
            {"ph": "X", "pid": 1, "tid": 1, "ts": 2.5, "dur": 3.0, "name": "inner", "args": {}},
            {"ph": "X", "pid": 1, "tid": 1, "ts": 10.0, "dur": 5.0, "name": "next", "args": {}},
            {"ph": "X", "pid": 1, "tid": 2, "ts": 10.0, "dur": 0.0, "name": "send", "bind_id": 1, "flow_out": True},
            {"ph": "X", "pid": 2, "tid": 2, "ts": 12.001, "dur": 0.0, "name": "arrived", "bind_id": 1, "flow_in": True},
            {"ph": "b", "pid": 1, "tid": 2, "ts": 10.0, "name": "pp transfer", "cat": "pp", "id2": {"local": "0x1"}},
            {"ph": "e", "pid": 1, "tid": 2, "ts": 12.001, "name": "pp transfer", "cat": "pp", "id2": {"local": "0x1"}},
            {"ph": "C", "pid": 1, "ts": 0.0, "name": "memory GiB", "args": {"weights": 1.5, "total": 2}},
        ],
        "metadata": {"stepsim": {"counts": {"slices": 5, "flows": 1, "async": 1, "counter_events": 1,
                                            "processes": 2, "threads": 3}}},
    }


def find(events, **match):
    return next(e for e in events if all(e.get(k) == v for k, v in match.items()))


def mutations(make):
    """(description, expected problem text, function that damages a trace in place)."""
    def ev(t, **m):
        return find(t["traceEvents"], **m)

    return [
        ("no ph", "missing 'ph'", lambda t: ev(t, name="inner").pop("ph")),
        ("no ts", "missing 'ts'", lambda t: ev(t, name="inner").pop("ts")),
        ("X without dur", "missing 'dur'", lambda t: ev(t, name="inner").pop("dur")),
        ("negative ts", "negative 'ts'", lambda t: ev(t, name="inner").update(ts=-1.0)),
        ("sub-ns ts", "more than nanosecond precision", lambda t: ev(t, name="inner").update(ts=2.5001)),
        ("epoch time", "past 2^41", lambda t: ev(t, name="next").update(ts=1.7e15)),
        ("tid 0", "tid 0", lambda t: ev(t, name="inner").update(tid=0)),
        ("string pid", "not an integer", lambda t: ev(t, name="inner").update(pid="1")),
        ("pid past uint32", "outside [1, 2^32)", lambda t: ev(t, name="inner").update(pid=2 ** 32)),
        ("partial overlap", "partially overlaps", lambda t: ev(t, name="inner").update(dur=9.0)),
        ("overlap across a boundary", "partially overlaps", lambda t: ev(t, name="next").update(ts=9.999)),
        ("empty name", "missing or empty 'name'", lambda t: ev(t, name="inner").update(name="")),
        ("thread without name", "has no thread_name",
         lambda t: t["traceEvents"].remove(ev(t, ph="M", pid=1, tid=1))),
        ("process without name", "has no process_name",
         lambda t: t["traceEvents"].remove(ev(t, ph="M", pid=2, name="process_name"))),
        ("unknown metadata", "not one the importer reads",
         lambda t: ev(t, ph="M", pid=1, name="process_sort_index").update(name="process_labels")),
        ("unsorted metadata", "not sorted",
         lambda t: t["traceEvents"].insert(0, t["traceEvents"].pop(4))),
        ("string counter", "not a finite number", lambda t: ev(t, ph="C")["args"].update(weights="1.5")),
        ("empty counter", "counter without values", lambda t: ev(t, ph="C").update(args={})),
        ("flow without end", "0 end(s)", lambda t: ev(t, name="arrived").pop("flow_in")),
        ("flow end before start", "strictly forward", lambda t: ev(t, name="arrived").update(ts=9.0)),
        ("two flow starts", "flow_duplicate_id",
         lambda t: ev(t, name="next").update(bind_id=1, flow_out=True)),
        ("v1 and v2 flows", "both the v1",
         lambda t: t["traceEvents"].append({"ph": "s", "pid": 1, "tid": 1, "ts": 0.0, "name": "f", "id": 7})),
        ("async never closed", "never closed", lambda t: t["traceEvents"].remove(ev(t, ph="e"))),
        ("async without id", "without 'id'", lambda t: [ev(t, ph=p).pop("id2") for p in "be"]),
        ("displayTimeUnit", "displayTimeUnit", lambda t: t.update(displayTimeUnit="ns")),
        ("declared counts wrong", "declares", lambda t: t["metadata"]["stepsim"]["counts"].update(slices=6)),
    ]


def damage_real(trace):
    """Damage a real trace the same ways; each copy must fail."""
    events = trace["traceEvents"]
    slices = [e for e in events if e["ph"] == "X" and e["dur"] > 0]
    first = slices[0]
    later = next(e for e in slices if (e["pid"], e["tid"]) == (first["pid"], first["tid"]) and e["ts"] > first["ts"])
    counter = next(e for e in events if e["ph"] == "C")
    flow = next(e for e in events if "bind_id" in e and e.get("flow_in") and not e.get("flow_out"))
    thread_meta = next(e for e in events if e["ph"] == "M" and e["name"] == "thread_name")

    def overlap(t):
        s = find(t["traceEvents"], ph="X", pid=later["pid"], tid=later["tid"], ts=later["ts"], name=later["name"])
        s["ts"] = round(first["ts"] + first["dur"] / 2, 3)
        s["dur"] = round(first["dur"], 3)
    return [
        ("real: slice moved to overlap its predecessor", "partially overlaps", overlap),
        ("real: tid 0", "tid 0", lambda t: find(t["traceEvents"], ph="X", pid=first["pid"], tid=first["tid"],
                                                ts=first["ts"]).update(tid=0)),
        ("real: counter as text", "not a finite number",
         lambda t: find(t["traceEvents"], ph="C", pid=counter["pid"], ts=counter["ts"], name=counter["name"])
         ["args"].update({next(iter(counter["args"])): "x"})),
        ("real: flow end removed", "0 end(s)",
         lambda t: t["traceEvents"].remove(find(t["traceEvents"], bind_id=flow["bind_id"], pid=flow["pid"],
                                                ts=flow["ts"], flow_in=True))),
        ("real: thread name removed", "has no thread_name",
         lambda t: t["traceEvents"].remove(find(t["traceEvents"], ph="M", pid=thread_meta["pid"],
                                                tid=thread_meta["tid"], name="thread_name"))),
    ]


def expect_failures(base, cases):
    bad = 0
    for description, expected, damage in cases:
        trace = copy.deepcopy(base)
        damage(trace)
        problems = check_trace.check(trace)
        if not any(expected in p for p in problems):
            print(f"FAIL {description}: expected a problem with '{expected}', got {problems[:3]}")
            bad += 1
        else:
            print(f"ok   {description}: rejected")
    return bad


def main():
    base = valid_trace()
    problems = check_trace.check(base)
    if problems:
        print("FAIL the valid trace is rejected:", problems)
        return 1
    bad = expect_failures(base, mutations(valid_trace))
    if len(sys.argv) > 2:
        real = json.load(open(sys.argv[2], encoding="utf-8"))
        problems = check_trace.check(real)
        if problems:
            print("FAIL the real trace is rejected:", problems[:3])
            return 1
        bad += expect_failures(real, damage_real(real))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
