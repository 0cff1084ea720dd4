"""Applies every manifest of a checkout of influxdata/community-templates to
a live oxiflux, each to a fresh org, twice: the first apply must make
everything (201), the second must find everything and make nothing new.
Then what it installed is run (community_queries.py): every dashboard cell's
query with the dashboard's variables bound, every variable's query, and every
task once.

Usage: community_templates.py CHECKOUT URL TOKEN. A manifest is a .yml/.yaml
file whose documents have apiVersion influxdata.com/v2alpha1 or v2alpha2.
Prints a line per failure, the failures counted by message, and the totals;
exits 1 on any failure.
"""
import collections, http.server, json, pathlib, re, sys, threading, time, urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from community_queries import Org, scheduled  # noqa: E402

root, base, token = sys.argv[1:4]
headers = {"Authorization": "Token " + token, "Content-Type": "application/json"}


def raw(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:600]


def call(method, path, body=None):
    status, text = raw(method, path, body)
    if status >= 300:
        return status, text
    return status, json.loads(text) if text else None


manifests = sorted(
    p for p in pathlib.Path(root).rglob("*.y*ml")
    if ".github" not in p.parts and "apiVersion: influxdata.com/v2alpha" in p.read_text(errors="replace")
)


class Sink(http.server.BaseHTTPRequestHandler):
    """Stands in for Slack and the other services a template's tasks post to."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_PUT = do_POST

    def log_message(self, *args):
        pass


sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
threading.Thread(target=sink.serve_forever, daemon=True).start()
# A secret a template names but does not give (a webhook, a token) is the
# user's to set: here each is the sink's address.
secret_value = "http://127.0.0.1:%d/" % sink.server_port

failures, messages, ran, every_minute = [], [], collections.Counter(), []
for i, path in enumerate(manifests):
    rel = str(path.relative_to(root))
    status, org = call("POST", "/api/v2/orgs", {"name": "ct-%d-%d" % (i, time.time() * 1000)})
    body = {"orgID": org["id"], "template": {"contentType": "yaml", "sources": [rel], "contents": path.read_text()}}
    status, first = call("POST", "/api/v2/templates/apply", body)
    if status != 201:
        failures.append("%s: %s %s" % (rel, status, first))
        continue
    missing = first["summary"].get("missingSecrets") or []
    if missing:
        call("PATCH", "/api/v2/orgs/%s/secrets" % org["id"], {k: secret_value for k in missing})
    status, again = call("POST", "/api/v2/templates/apply", body)
    new = [] if status == 201 else ["status %s" % status]
    if status == 201:
        for kind, entries in again["diff"].items():
            new += ["%s %s" % (kind, e.get("templateMetaName") or e.get("resourceTemplateMetaName"))
                    for e in entries if e["stateStatus"] == "new"]
    if new:
        failures.append("%s: applied again, made %s" % (rel, new))
    installed = Org(call, raw, org["id"], secret_value)
    ran.update(installed.check())
    failures += ["%s: %s %s: %s" % (rel, kind, where, msg) for kind, where, msg in installed.failures]
    messages += [msg for _, _, msg in installed.failures]
    for kind, _, _ in installed.failures:
        ran["failed " + kind] += 1
    every_minute += [(task_id, "%s: %s" % (rel, name)) for task_id, name in installed.every_minute]
# The scheduler, not only a forced run: every task due each minute runs on its own.
unscheduled = scheduled(call, every_minute)
ran["tasks due each minute"] = len(every_minute)
ran["of those scheduled"] = len(every_minute) - len(unscheduled)
failures += ["%s: not run by the scheduler" % name for name in unscheduled]
messages += ["not run by the scheduler"] * len(unscheduled)
for f in failures:
    print(f)
print()
classes = collections.Counter(re.sub(r'"[^"]*"|\b[0-9a-f]{16}\b|\d+', "_", m)[:110] for m in messages)
for text, n in classes.most_common():
    print("%5d  %s" % (n, text))
print()
print("%d manifests: %s" % (len(manifests), ", ".join("%s %d" % kv for kv in sorted(ran.items()) if kv[1])))
sys.exit(1 if failures else 0)
