"""After a community template is applied to an org, runs what it installed
the way a 2.x user meets it:

- every query of every dashboard cell, with the dashboard's variables bound
  as 2.x's UI binds them (an `extern` file setting `option v = {...}`:
  timeRangeStart -1h, timeRangeStop now(), windowPeriod 10s, and each
  variable's selected value: a query variable's first `_value`, a map
  variable's first key's value, a constant's first value);
- every variable's own query;
- every active task (checks' and notification rules' tasks included) once by hand, through the
  same executor the scheduler uses, waiting for the run to finish. A secret
  its Flux reads (`secrets.get(key: ...)`) is set first, to a loopback sink's
  address (the user's webhook or token).

A template that reads `v.bucket` without making a `bucket` variable relies on
one its user already has; here that one names the `telegraf` bucket.

Buckets a template reads but does not make (`from(bucket: "telegraf")`, or a
constant or map variable naming one) are made first, empty, as a user's own
Telegraf would have made them; so is a `telegraf` bucket, the one a `buckets()`
variable then offers when the template makes none. A failure is (kind, where, message).
"""
import csv, io, json, re, time

BUCKET_LITERAL = re.compile(r'bucket\s*:\s*"((?:[^"\\]|\\.)+)"')
SECRET = re.compile(r'secrets\.get\(\s*key\s*:\s*"([^"]+)"')
USED = re.compile(r"\bv\.([A-Za-z_][A-Za-z0-9_]*)")
TABLE_ERROR = re.compile(r"^#datatype,string,string\r?\n#group,true,true\r?\n#default,,\r?\n,error,reference\r?\n,(.*?),", re.S)


def duration(text):
    """An `-1h` or `10s` Flux duration as a JSON AST node."""
    neg = text.startswith("-")
    parts = [{"magnitude": int(m), "unit": u} for m, u in re.findall(r"(\d+)([a-zµ]+)", text)]
    node = {"type": "DurationLiteral", "values": parts}
    return {"type": "UnaryExpression", "operator": "-", "argument": node} if neg else node


def extern(bindings):
    props = [{"type": "Property", "key": {"type": "Identifier", "name": k}, "value": v}
             for k, v in bindings.items()]
    return {"type": "File", "package": None, "imports": None, "body": [{
        "type": "OptionStatement", "assignment": {
            "type": "VariableAssignment", "id": {"type": "Identifier", "name": "v"},
            "init": {"type": "ObjectExpression", "properties": props}}}]}


NOW = {"type": "CallExpression", "callee": {"type": "Identifier", "name": "now"}}


class Org:
    def __init__(self, call, raw, org_id, secret_value):
        self.call, self.raw, self.org, self.secret_value = call, raw, org_id, secret_value
        self.failures = []
        _, variables = call("GET", "/api/v2/variables?orgID=" + org_id)
        self.variables = {v["name"]: v for v in variables["variables"]}
        self.values = {}

    def fail(self, kind, where, message):
        self.failures.append((kind, where, " ".join(str(message).split())[:300]))

    # Buckets ----------------------------------------------------------------
    def make_buckets(self, queries):
        names = {"telegraf"}
        for q in queries:
            names.update(n.replace('\\"', '"') for n in BUCKET_LITERAL.findall(q))
        for v in self.variables.values():
            if "bucket" in v["name"].lower():
                args = v["arguments"]
                if args["type"] == "constant":
                    names.update(args["values"])
                elif args["type"] == "map":
                    names.update(args["values"].values())
        _, have = self.call("GET", "/api/v2/buckets?limit=100&orgID=" + self.org)
        names -= {b["name"] for b in have["buckets"]}
        for name in sorted(n for n in names if n and not n.startswith("_")):
            status, body = self.call("POST", "/api/v2/buckets",
                                     {"orgID": self.org, "name": name, "retentionRules": []})
            if status != 201:
                self.fail("bucket", name, "%s %s" % (status, body))

    # Variables --------------------------------------------------------------
    def bindings(self, text, seen=()):
        out = {"timeRangeStart": duration("-1h"), "timeRangeStop": NOW, "windowPeriod": duration("10s")}
        for name in sorted(set(USED.findall(text)) - set(out)):
            value = self.value(name, seen)
            if value is not None:
                out[name] = {"type": "StringLiteral", "value": value}
        return out

    def value(self, name, seen):
        if name in self.values:
            return self.values[name]
        var = self.variables.get(name)
        if var is None and name == "bucket":
            return "telegraf"
        if var is None or name in seen:
            return None
        args, value = var["arguments"], None
        if args["type"] == "constant":
            value = (var.get("selected") or args["values"] or [None])[0]
        elif args["type"] == "map":
            key = (var.get("selected") or list(args["values"]) or [None])[0]
            value = args["values"].get(key) if key is not None else None
        elif args["type"] == "query":
            text = args["values"]["query"]
            answer = self.query("variable", name, text, seen + (name,))
            found = first_values(answer) if answer is not None else []
            selected = var.get("selected") or []
            value = selected[0] if selected and selected[0] in found else (found[0] if found else None)
        self.values[name] = value
        return value

    # Queries ----------------------------------------------------------------
    def query(self, kind, where, text, seen=()):
        body = {"query": text, "extern": extern(self.bindings(text, seen)),
                "dialect": {"annotations": ["datatype", "group", "default"]}}
        status, answer = self.raw("POST", "/api/v2/query?orgID=" + self.org, body)
        if status != 200:
            try:
                answer = json.loads(answer)["message"]
            except (ValueError, KeyError, TypeError):
                pass
            self.fail(kind, where, "%s %s" % (status, answer))
            return None
        err = TABLE_ERROR.match(answer)
        if err:
            self.fail(kind, where, err.group(1))
            return None
        return answer

    def dashboards(self):
        _, ds = self.call("GET", "/api/v2/dashboards?limit=100&orgID=" + self.org)
        for d in ds["dashboards"]:
            _, full = self.call("GET", "/api/v2/dashboards/%s?include=properties" % d["id"])
            for cell in full["cells"]:
                props = (cell.get("properties") or {})
                for i, q in enumerate(props.get("queries") or []):
                    if q.get("text", "").strip():
                        yield "%s / %s / queries[%d]" % (d["name"], props.get("name") or cell["id"], i), q["text"]

    # Tasks ------------------------------------------------------------------
    def run_tasks(self, deadline_s=60):
        _, tasks = self.call("GET", "/api/v2/tasks?limit=500&orgID=" + self.org)
        listed = {t["id"] for t in tasks["tasks"]}
        for path, key in (("checks", "checks"), ("notificationRules", "notificationRules")):
            _, found = self.call("GET", "/api/v2/%s?limit=100&orgID=%s" % (path, self.org))
            for item in found[key]:
                status, task = self.call("GET", "/api/v2/tasks/" + item["taskID"])
                if status != 200:
                    self.fail("task", item["name"], "its task: %s %s" % (status, task))
                elif task["id"] not in listed:
                    tasks["tasks"].append(task)
        secrets = {k for t in tasks["tasks"] for k in SECRET.findall(t["flux"])}
        if secrets:
            self.call("PATCH", "/api/v2/orgs/%s/secrets" % self.org, {k: self.secret_value for k in secrets})
        runs = {}
        for t in tasks["tasks"]:
            if t.get("status") != "active":
                continue  # as the template asks: the scheduler leaves it, and so does a forced run
            status, run = self.call("POST", "/api/v2/tasks/%s/runs" % t["id"], {})
            if status != 201:
                self.fail("task", t["name"], "%s %s" % (status, run))
            else:
                runs[t["id"]] = (t["name"], run["id"])
        deadline = time.time() + deadline_s
        while runs and time.time() < deadline:
            for task_id, (name, run_id) in list(runs.items()):
                _, run = self.call("GET", "/api/v2/tasks/%s/runs/%s" % (task_id, run_id))
                if run["status"] in ("success", "failed", "canceled"):
                    del runs[task_id]
                    if run["status"] != "success":
                        _, logs = self.call("GET", "/api/v2/tasks/%s/runs/%s/logs" % (task_id, run_id))
                        text = "; ".join(e["message"] for e in logs.get("events", [])
                                         if not e["message"].startswith("Started task from script"))
                        self.fail("task", name, "%s: %s" % (run["status"], text))
            time.sleep(0.2)
        for name, _ in runs.values():
            self.fail("task", name, "run did not finish in %d s" % deadline_s)
        self.every_minute = [(t["id"], t["name"]) for t in tasks["tasks"]
                             if t.get("status") == "active" and seconds(t.get("every")) in range(1, 61)]
        return len(tasks["tasks"])

    def check(self):
        cells = list(self.dashboards())
        self.make_buckets([t for _, t in cells] + [
            v["arguments"]["values"]["query"] for v in self.variables.values()
            if v["arguments"]["type"] == "query"])
        for name, var in self.variables.items():
            if var["arguments"]["type"] == "query":
                self.value(name, ())
        for where, text in cells:
            self.query("cell", where, text)
        tasks = self.run_tasks()
        return {"cells": len(cells), "variables": len(self.variables), "tasks": tasks}


def seconds(every):
    """`1m0s` as 60; None for a cron task."""
    if not every:
        return None
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", every))


def scheduled(call, tasks, deadline_s=75):
    """Waits until each (id, name) of `tasks` has a run the scheduler made (one
    without `requestedAt`) that finished; the names of those that have none."""
    waiting, deadline = dict(tasks), time.time() + deadline_s
    while waiting and time.time() < deadline:
        for task_id in list(waiting):
            _, runs = call("GET", "/api/v2/tasks/%s/runs" % task_id)
            if any("requestedAt" not in r and r["status"] in ("success", "failed") for r in runs["runs"]):
                del waiting[task_id]
        time.sleep(1)
    return sorted(waiting.values())


def first_values(text):
    """The distinct `_value`s of an annotated CSV answer, in order."""
    out, header = [], None
    for cols in csv.reader(io.StringIO(text)):
        if not cols or cols[0].startswith("#"):
            header = None
            continue
        if header is None:
            header = cols
            continue
        if "_value" in header and len(cols) == len(header):
            v = cols[header.index("_value")]
            if v not in out:
                out.append(v)
    return out
