#!/usr/bin/env python3
"""Records how a real InfluxDB 1.x parses each query of parse_queries.txt
into parse.tsv (`query<TAB>answer`, the answer `ok` or the parse error).

    sudo apt-get install influxdb   # 1.6.7 on Debian
    influxd -config <a config with [http] bind-address = "127.0.0.1:18087">
    python3 crates/influxql/tests/golden/record_parse.py http://127.0.0.1:18087

A query the server answers with anything but "error parsing query: ..." parsed.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18087"
rows = []
with open(os.path.join(here, "parse_queries.txt"), encoding="utf-8") as f:
    for q in (line.rstrip("\n") for line in f):
        if not q.strip():
            continue
        try:
            body = urllib.request.urlopen(url + "/query?" + urllib.parse.urlencode({"q": q})).read()
        except urllib.error.HTTPError as e:
            body = e.read()
        answer = json.loads(body).get("error", "ok")
        if not answer.startswith("error parsing query"):
            answer = "ok"
        rows.append(q + "\t" + answer)
with open(os.path.join(here, "parse.tsv"), "w", encoding="utf-8") as f:
    f.write("\n".join(rows) + "\n")
print(len(rows), "queries recorded")
