#!/usr/bin/env python3
"""`helm lint` and `helm template` for machines without the helm binary.

Debian ships no helm and PyPI no helm executable; `helm-python-sdk` (PyPI, Apache-2.0) binds
Helm's own Go SDK (v4) through a C library, so charts are linted and rendered by Helm's
engine, not an imitation. This takes the subset of helm's arguments the chart's test uses,
so the test runs `helm` when it is installed and this otherwise:

    helm.py lint CHART [--strict] [-f VALUES]...
    helm.py template NAME CHART [-n NAMESPACE] [-f VALUES]...
"""

import argparse
import json
import sys

import helm_python


def deep_merge(base, extra):
    """Later values files override earlier ones key by key, as helm merges `-f` files."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def read_values(files):
    values = {}
    for path in files or []:
        with open(path, encoding="utf-8") as f:
            deep_merge(values, helm_python.values_from_yaml(f.read()) or {})
    return values


def lint(args):
    report = helm_python.lint(args.chart, read_values(args.values) or None, strict=args.strict)
    # Severity: 1 info, 2 warning, 3 error (helm's support.Severity).
    names = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
    failed = False
    for m in report.get("messages") or []:
        severity = m.get("severity", 0)
        print(f"[{names.get(severity, severity)}] {m.get('path')}: {m.get('error')}")
        failed |= severity >= 3 or (args.strict and severity >= 2)
    for e in report.get("errors") or []:
        print(f"[ERROR] {e}")
        failed = True
    linted = report.get("total_charts_linted", 0)
    print(f"{linted} chart(s) linted, {'failed' if failed else 'no failures'}")
    return 1 if failed or linted < 1 else 0


def template(args):
    chart = helm_python.Chart.load(args.chart)
    rendered = chart.render(
        read_values(args.values), name=args.name, namespace=args.namespace, is_install=True
    )
    for path in sorted(rendered):
        text = rendered[path]
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        sys.stdout.write(f"---\n# Source: {path}\n{text.strip()}\n")
    return 0


def main():
    parser = argparse.ArgumentParser(prog="helm.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lint")
    p.add_argument("chart")
    p.add_argument("--strict", action="store_true")
    p.add_argument("-f", "--values", action="append")
    p = sub.add_parser("template")
    p.add_argument("name")
    p.add_argument("chart")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-f", "--values", action="append")
    args = parser.parse_args()
    try:
        return lint(args) if args.command == "lint" else template(args)
    except helm_python.errors.HelmError as e:  # a template that fails: helm's message
        print(f"Error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
