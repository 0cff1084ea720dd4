"""Applies every manifest of a checkout of influxdata/community-templates to
a live oxiflux, each to a fresh org, twice: the first apply must make
everything (201), the second must find everything and make nothing new.

Usage: community_templates.py CHECKOUT URL TOKEN. A manifest is a .yml/.yaml
file whose documents have apiVersion influxdata.com/v2alpha1 or v2alpha2.
Prints a line per failure and a count; exits 1 on any failure.
"""
import json, pathlib, sys, time, urllib.request

root, base, token = sys.argv[1:4]
headers = {"Authorization": "Token " + token, "Content-Type": "application/json"}


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:600]


manifests = sorted(
    p for p in pathlib.Path(root).rglob("*.y*ml")
    if ".github" not in p.parts and "apiVersion: influxdata.com/v2alpha" in p.read_text(errors="replace")
)
failures = []
for i, path in enumerate(manifests):
    rel = str(path.relative_to(root))
    status, org = call("POST", "/api/v2/orgs", {"name": "ct-%d-%d" % (i, time.time() * 1000)})
    body = {"orgID": org["id"], "template": {"contentType": "yaml", "sources": [rel], "contents": path.read_text()}}
    status, first = call("POST", "/api/v2/templates/apply", body)
    if status != 201:
        failures.append("%s: %s %s" % (rel, status, first))
        continue
    status, again = call("POST", "/api/v2/templates/apply", body)
    new = [] if status == 201 else ["status %s" % status]
    if status == 201:
        for kind, entries in again["diff"].items():
            new += ["%s %s" % (kind, e.get("templateMetaName") or e.get("resourceTemplateMetaName"))
                    for e in entries if e["stateStatus"] == "new"]
    if new:
        failures.append("%s: applied again, made %s" % (rel, new))
for f in failures:
    print(f)
print("%d of %d manifests applied, and again without change" % (len(manifests) - len(failures), len(manifests)))
sys.exit(1 if failures else 0)
