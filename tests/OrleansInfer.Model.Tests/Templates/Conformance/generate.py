"""Builds cases.json, the differential conformance corpus of the C# Jinja engine, from the Python oracle.

Run: python3 generate.py  (needs jinja2 3.1.6). The C# tests only read cases.json; this script documents
where every expected value came from. Each case module exposes CASES: a list of dicts with name, template,
context and optionally sandbox ("mutable" for cases that mutate lists, which transformers' sandbox forbids).
"""
import json
import os
import sys

import jinja2

import cases_chat
import cases_errors
import cases_expressions
import cases_filters
import cases_methods
import cases_statements
import cases_tests
import cases_undefined
import cases_whitespace
from oracle import CLOCK, evaluate

MODULES = [cases_statements, cases_whitespace, cases_expressions, cases_tests, cases_filters,
           cases_methods, cases_undefined, cases_errors, cases_chat]


def main():
    if jinja2.__version__ != "3.1.6":
        sys.exit(f"expected jinja2 3.1.6, found {jinja2.__version__}: expected values would drift")
    out, seen = [], set()
    for module in MODULES:
        for case in module.CASES:
            name = case["name"]
            if name in seen:
                sys.exit(f"duplicate case name {name}")
            seen.add(name)
            sandbox = case.get("sandbox", "immutable")
            record = {"name": name, "template": case["template"], "context": case.get("context", {})}
            if sandbox != "immutable":
                record["sandbox"] = sandbox
            record.update(evaluate(case["template"], record["context"], sandbox))
            out.append(record)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump({"clock": CLOCK.isoformat(), "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in out if "error" in c)
    print(f"{len(out)} cases ({errors} errors) -> {path}")
    for module in MODULES:
        print(f"  {module.__name__}: {len(module.CASES)}")


if __name__ == "__main__":
    main()
