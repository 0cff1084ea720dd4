#!/usr/bin/env python3
"""Records InfluxDB 1.x's answers to queries.txt over dataset.lp into golden.json.

    sudo apt-get install influxdb      # Debian's 1.6.7
    influxd -config <config with [http] bind-address = "127.0.0.1:18087">
    python3 crates/oxiflux/tests/e2e/influxql/record.py http://127.0.0.1:18087

The dataset goes into a fresh database `db`; each query runs with `db=db`.
Answers that depend on chance (sample() of fewer points than a window has)
are tested apart, for what they must be.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18087"


def call(path, data=None, params=None):
    full = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(full, data=data, method="POST" if data is not None else "GET")
    try:
        return urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        return e.read()


call("/query", b"", {"q": "DROP DATABASE db"})
call("/query", b"", {"q": "CREATE DATABASE db"})
with open(os.path.join(here, "dataset.lp"), "rb") as f:
    call("/write", f.read(), {"db": "db", "precision": "ns"})
golden = []
with open(os.path.join(here, "queries.txt"), encoding="utf-8") as f:
    for q in (line.rstrip("\n") for line in f):
        if q.strip():
            answer = json.loads(call("/query", None, {"db": "db", "q": q}))
            golden.append({"query": q, "answer": answer})
with open(os.path.join(here, "golden.json"), "w", encoding="utf-8") as f:
    json.dump(golden, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(len(golden), "answers recorded")
