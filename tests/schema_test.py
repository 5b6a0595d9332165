#!/usr/bin/env python3
"""results/SCHEMA.md and the result writer agree on every field name.

Usage: schema_test.py SCHEMA.md FULL_RECORD.json. The record is one test_result writes with every
field set, so each key the writer can emit is in it. Keys under op_share (the op names) and
peak_gflops (the kind) are values of a kind, not field names."""
import json
import re
import sys

VALUE_KEYS = {"op_share", "peak_gflops"}


def record_keys(node, out, parent=None):
    if isinstance(node, dict):
        for k, v in node.items():
            if parent in VALUE_KEYS:
                continue
            out.add(k)
            record_keys(v, out, k)
    elif isinstance(node, list):
        for v in node:
            record_keys(v, out, parent)
    return out


def schema_keys(text):
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    keys = set()
    # Comments count: they document the alternative forms of an object (a roofline without a bound).
    keys.update(re.findall(r'"([a-z_0-9]+)"\s*:', block))
    return keys


def main():
    schema = schema_keys(open(sys.argv[1]).read())
    record = record_keys(json.load(open(sys.argv[2])), set())
    # The examples of value keys in the schema (an op name, a peak kind) are not fields.
    schema -= {"qkv_matmul", "attention", "int8"}
    undocumented = sorted(record - schema)
    unwritten = sorted(schema - record)
    if undocumented:
        print("written but not in SCHEMA.md:", ", ".join(undocumented))
    if unwritten:
        print("in SCHEMA.md but never written:", ", ".join(unwritten))
    print(f"schema_test: {len(record & schema)} passed, {len(undocumented) + len(unwritten)} failed")
    return 1 if undocumented or unwritten else 0


if __name__ == "__main__":
    sys.exit(main())
