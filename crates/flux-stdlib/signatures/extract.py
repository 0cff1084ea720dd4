#!/usr/bin/env python3
"""Writes ../src/signatures.tsv: the type signature of each function of the
packages oxiflux implements, taken from the Flux stdlib reference pages
(`##### Function type signature`). Run from anywhere:

    python3 crates/flux-stdlib/signatures/extract.py ../shared/reference/flux/stdlib

Each line: `<package path>\t<function name>\t<signature>`, sorted.
"""
import os
import re
import sys

PACKAGES = [
    "universe", "array", "csv", "testing", "sampledata", "strings", "math", "regexp",
    "internal/debug", "timezone", "experimental", "generate", "experimental/table", "join",
    # from, buckets and to: in the universe of queries, documented here.
    "influxdata/influxdb",
]


def main(root):
    rows = []
    for pkg in PACKAGES:
        folder = os.path.join(root, pkg)
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            if not entry.endswith(".md") or entry == "_index.md" or os.path.isdir(path):
                continue
            text = open(path, encoding="utf-8").read()
            m = re.search(r"##### Function type signature\s*```js\s*(.*?)\s*```", text, re.S)
            if not m:
                continue
            title = re.search(r"^title: (\S+)\(\) function", text, re.M)
            if not title:
                continue
            name = title.group(1).rsplit(".", 1)[-1]
            # One line, without the spaces and trailing commas of the pages' layout.
            signature = " ".join(m.group(1).split()).replace("( ", "(").replace(", )", ")")
            rows.append(f"{pkg}\t{name}\t{signature}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "signatures.tsv")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(rows)) + "\n")
    print(f"{len(rows)} signatures -> {os.path.normpath(out)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/flux/stdlib")
