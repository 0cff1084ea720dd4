#!/usr/bin/env python3
"""Records InfluxDB 1.x's answers to each `<name>.influxql` here into `<name>.result`.

    sudo apt-get install influxdb      # Debian's 1.6.7
    influxd -config <config with [http] bind-address = "127.0.0.1:18087">
    python3 crates/oxiflux/tests/cases/influxql/record.py http://127.0.0.1:18087

Every `<bucket>.lp` of this directory goes into a fresh database of that name,
as the conformance runner puts it into a bucket of that name; each query runs
with `db` set by its file's `-- db: <name>` line. Answers that depend on chance
(sample() of fewer points than a window has) are tested apart, for what they
must be. Answers 2.x gives differently are in `<name>.overrides`, by hand.
"""
import glob
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))


def call(url, path, data=None, params=None):
    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(full, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req) as r:
            return r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.read(), e.headers


def queries(path):
    """The queries of an `.influxql` file (one a line) and the database its `-- db:` line names."""
    db, out = None, []
    with open(path, encoding="utf-8") as f:
        for line in (line.rstrip("\n") for line in f):
            if line.startswith("-- db:"):
                db = line[len("-- db:"):].strip()
            elif line.strip() and not line.startswith("--"):
                out.append(line)
    return db, out


def dump(value, indent=0):
    """JSON, each array or object that holds only scalars (a row, a column list) on one line."""
    members = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    if not any(isinstance(v, (list, dict)) for v in members):
        return json.dumps(value, ensure_ascii=False)
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        lines = [pad + json.dumps(k, ensure_ascii=False) + ": " + dump(v, indent + 1) for k, v in value.items()]
        return "{\n" + ",\n".join(lines) + "\n" + "  " * indent + "}"
    lines = [pad + dump(v, indent + 1) for v in value]
    return "[\n" + ",\n".join(lines) + "\n" + "  " * indent + "]"


def write_result(path, version, source, answers):
    """Writes `answers` ((query, answer) pairs) as the runner reads them: blocks of a
    query line and its JSON answer, a blank line between blocks."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# InfluxDB {version}'s answers to {source}, recorded by record.py.\n")
        f.write("# Re-record them, never edit them: README.md beside the cases says how.\n")
        for q, answer in answers:
            f.write("\n" + q + "\n" + dump(answer) + "\n")


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18087"
    _, headers = call(url, "/ping")
    version = headers.get("X-Influxdb-Version", "1.x")
    for lp in sorted(glob.glob(os.path.join(here, "*.lp"))):
        db = os.path.splitext(os.path.basename(lp))[0]
        call(url, "/query", b"", {"q": f"DROP DATABASE {db}"})
        call(url, "/query", b"", {"q": f"CREATE DATABASE {db}"})
        with open(lp, "rb") as f:
            points = f.read()
        if any(line.strip() and not line.startswith(b"#") for line in points.splitlines()):
            call(url, "/write", points, {"db": db, "precision": "ns"})
    for source in sorted(glob.glob(os.path.join(here, "*.influxql"))):
        db, qs = queries(source)
        answers = [(q, json.loads(call(url, "/query", None, {"db": db, "q": q})[0])) for q in qs]
        result = os.path.splitext(source)[0] + ".result"
        write_result(result, version, os.path.basename(source), answers)
        print(len(answers), "answers recorded in", os.path.basename(result))


if __name__ == "__main__":
    main()
