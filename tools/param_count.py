#!/usr/bin/env python3
"""Exact parameter count of stepsim model files, checked against published totals.

Reads every models/*.json (or the files named on the command line), validates each one
against the model format (docs/formats/model.md), counts its parameters with the formula
of that format and prints, as a Markdown table, the computed count next to the file's
`published_parameters` with the relative difference.

A published figure matches when the count is within 0.5% of it, or when the count rounds
to the figure at the precision it is written with ("1.7e9" has two significant digits, so
anything in [1.65e9, 1.75e9] rounds to it: papers round their tables). Exit status: 0 when
every file is valid and every published figure matches, 1 otherwise, 2 on a usage error.

Python 3 standard library only.

Usage:
  tools/param_count.py                 # all models/*.json of this checkout
  tools/param_count.py models/gpt2.json --breakdown
"""

import argparse
import json
import math
import os
import re
import sys

DEFAULT_TOLERANCE = 0.005
# Published figures that the source itself rounds more coarsely than its digits suggest.
TOLERANCE_OVERRIDES = {
    "gpt3-175b": 0.01,  # Brown et al. 2020, Table 2.1 prints "175.0B" for 174.6B
}

ARCHES = ("gpt", "llama")
POSITION_EMBEDDINGS = ("learned", "rope")

# key -> (required, kind). kind: "int" (positive JSON integer), "str", "bool", "number", "moe".
FIELDS = {
    "id": (True, "str"),
    "name": (True, "str"),
    "arch": (True, "str"),
    "layers": (True, "int"),
    "hidden": (True, "int"),
    "heads": (True, "int"),
    "kv_heads": (True, "int"),
    "ffn_hidden": (True, "int"),
    "vocab": (True, "int"),
    "max_seq_len": (True, "int"),
    "tied_embeddings": (False, "bool"),
    "qkv_bias": (False, "bool"),
    "position_embedding": (False, "str"),
    "moe": (False, "moe"),
    "published_parameters": (False, "number"),
    "source": (True, "str"),
}
MOE_FIELDS = ("experts", "top_k")


class ModelError(Exception):
    pass


class RawInt(int):
    """A JSON integer that remembers how it was written."""

    text = ""


class RawFloat(float):
    """A JSON number with a fraction or exponent that remembers how it was written."""

    text = ""


def _raw_int(text):
    value = RawInt(int(text))
    value.text = text
    return value


def _raw_float(text):
    value = RawFloat(float(text))
    if not math.isfinite(value):
        raise ValueError("number out of range: " + text)
    value.text = text
    return value


def strip_comments(text):
    """Removes // and /* */ comments that are outside JSON strings; keeps line breaks."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ModelError("unterminated /* comment")
            out.append("\n" * text.count("\n", i, end))
            i = end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ModelError('key "%s" appears twice in the same object' % key)
        obj[key] = value
    return obj


def parse_model_text(text):
    try:
        return json.loads(
            strip_comments(text),
            object_pairs_hook=_no_duplicates,
            parse_int=_raw_int,
            parse_float=_raw_float,
        )
    except json.JSONDecodeError as e:
        raise ModelError("not valid JSON: %s (line %d)" % (e.msg, e.lineno))
    except ValueError as e:
        raise ModelError(str(e))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def validate(model, file_id):
    """Checks a parsed model against the format; returns the model with defaults applied."""
    if not isinstance(model, dict):
        raise ModelError("the top level must be a JSON object")
    errors = []
    for key in model:
        if key not in FIELDS:
            errors.append('unknown key "%s" (known: %s)' % (key, ", ".join(FIELDS)))
    for key, (required, kind) in FIELDS.items():
        if key not in model:
            if required:
                errors.append('missing required key "%s"' % key)
            continue
        v = model[key]
        if kind == "int" and not (_is_int(v) and v > 0):
            errors.append('"%s" must be a positive integer, got %r' % (key, v))
        elif kind == "str" and not (isinstance(v, str) and v.strip()):
            errors.append('"%s" must be a non-empty string' % key)
        elif kind == "bool" and not isinstance(v, bool):
            errors.append('"%s" must be true or false' % key)
        elif kind == "number" and not (isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0):
            errors.append('"%s" must be a positive number' % key)
        elif kind == "moe":
            if not isinstance(v, dict):
                errors.append('"moe" must be an object {"experts": E, "top_k": K}')
                continue
            for k in v:
                if k not in MOE_FIELDS:
                    errors.append('unknown key "moe.%s" (known: experts, top_k)' % k)
            for k in MOE_FIELDS:
                if not (_is_int(v.get(k)) and v.get(k) > 0):
                    errors.append('"moe.%s" must be a positive integer' % k)
    if errors:
        raise ModelError("; ".join(errors))

    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", model["id"]):
        errors.append('"id" may hold only lower-case letters, digits, "." and "-"')
    if model["id"] != file_id:
        errors.append('"id" is "%s" but the file is %s.json' % (model["id"], file_id))
    if model["arch"] not in ARCHES:
        errors.append('"arch" must be one of %s, got "%s"' % ("|".join(ARCHES), model["arch"]))
    if model["hidden"] % model["heads"]:
        errors.append("hidden (%d) is not a multiple of heads (%d)" % (model["hidden"], model["heads"]))
    if model["kv_heads"] > model["heads"] or model["heads"] % model["kv_heads"]:
        errors.append("heads (%d) is not a multiple of kv_heads (%d)" % (model["heads"], model["kv_heads"]))
    pos = model.get("position_embedding")
    if pos is not None and pos not in POSITION_EMBEDDINGS:
        errors.append('"position_embedding" must be one of %s, got "%s"' % ("|".join(POSITION_EMBEDDINGS), pos))
    if "qkv_bias" in model and model["arch"] != "llama":
        errors.append('"qkv_bias" applies to arch llama only (gpt layers always carry QKV biases)')
    moe = model.get("moe")
    if moe and moe["top_k"] > moe["experts"]:
        errors.append("moe.top_k (%d) exceeds moe.experts (%d)" % (moe["top_k"], moe["experts"]))
    if errors:
        raise ModelError("; ".join(errors))

    gpt = model["arch"] == "gpt"
    resolved = dict(model)
    resolved.setdefault("tied_embeddings", gpt)
    resolved.setdefault("qkv_bias", gpt)
    resolved.setdefault("position_embedding", "learned" if gpt else "rope")
    return resolved


def count_parameters(m):
    """Parameter count by component, per docs/formats/model.md ("Parameter count")."""
    h, L, V = m["hidden"], m["layers"], m["vocab"]
    ffn = m["ffn_hidden"]
    head_dim = h // m["heads"]
    kv_dim = m["kv_heads"] * head_dim
    moe = m.get("moe")
    experts = moe["experts"] if moe else 1
    router = h * experts if moe else 0

    qkv_out = h + 2 * kv_dim
    if m["arch"] == "llama":
        attn = h * qkv_out + h * h + (qkv_out if m["qkv_bias"] else 0)
        mlp = experts * 3 * h * ffn + router
        norms = 2 * h
        final_norm = h
    else:
        attn = h * qkv_out + qkv_out + h * h + h
        mlp = experts * (h * ffn + ffn + ffn * h + h) + router
        norms = 4 * h
        final_norm = 2 * h

    parts = {
        "token_embedding": V * h,
        "position_embedding": m["max_seq_len"] * h if m["position_embedding"] == "learned" else 0,
        "attention": L * attn,
        "mlp": L * mlp,
        "layer_norms": L * norms,
        "final_norm": final_norm,
        "lm_head": 0 if m["tied_embeddings"] else V * h,
    }
    parts["total"] = sum(parts.values())
    return parts


def published_half_unit(value):
    """Half a unit in the last digit the published figure is written with (0 when unknown)."""
    text = getattr(value, "text", "")
    match = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?", text)
    if not match:
        return 0.0
    decimals = len(match.group(2) or "")
    exponent = int(match.group(3) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)


def check_published(model_id, computed, published):
    """Returns (relative difference, status) of a computed count against its published figure."""
    rel = (computed - published) / published
    if abs(rel) <= DEFAULT_TOLERANCE:
        return rel, "ok"
    override = TOLERANCE_OVERRIDES.get(model_id)
    if override is not None and abs(rel) <= override:
        return rel, "ok (within %g%%: rounded source)" % (override * 100)
    if abs(computed - published) <= published_half_unit(published):
        return rel, "ok (rounds to published)"
    return rel, "MISS"


def human(n):
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if n >= scale:
            return "%.3f%s" % (n / scale, unit)
    return "{:,}".format(int(n))


def published_text(value):
    return getattr(value, "text", "") or repr(value)


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="model files (default: every models/*.json)")
    parser.add_argument("--breakdown", action="store_true", help="also print the count by component")
    args = parser.parse_args(argv)

    files = args.files
    if not files:
        models_dir = os.path.join(root, "models")
        files = sorted(os.path.join(models_dir, f) for f in os.listdir(models_dir) if f.endswith(".json"))
    if not files:
        print("no model files found", file=sys.stderr)
        return 2

    failed = 0
    entries = []
    for path in files:
        file_id = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path, encoding="utf-8") as f:
                model = validate(parse_model_text(f.read()), file_id)
        except (OSError, UnicodeDecodeError, ModelError) as e:
            print("%s: error: %s" % (path, e), file=sys.stderr)
            failed += 1
            continue
        entries.append((file_id, model, count_parameters(model)))

    # Families together (the id up to its last "-"), smallest model first.
    entries.sort(key=lambda e: (e[0].rsplit("-", 1)[0], e[2]["total"], e[0]))
    rows = []
    for file_id, model, parts in entries:
        total = parts["total"]
        published = model.get("published_parameters")
        if published is None:
            rows.append((file_id, model["arch"], "{:,}".format(total), human(total), "-", "-", "no published total"))
        else:
            rel, status = check_published(file_id, total, published)
            if status == "MISS":
                failed += 1
            rows.append((file_id, model["arch"], "{:,}".format(total), human(total),
                         published_text(published), "%+.3f%%" % (rel * 100), status))

    header = ("id", "arch", "computed", "computed (short)", "published", "difference", "check")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---", "---", "---:", "---:", "---:", "---:", "---"]) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    with_published = sum(1 for r in rows if r[4] != "-")
    misses = sum(1 for r in rows if r[6] == "MISS")
    print()
    print("%d model files, %d with a published total, %d outside tolerance, %d invalid"
          % (len(rows), with_published, misses, len(files) - len(rows)))

    if args.breakdown:
        for file_id, _, parts in entries:
            print()
            print(file_id)
            for key, value in parts.items():
                print("  %-19s %20s" % (key, "{:,}".format(value)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
