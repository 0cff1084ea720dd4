#!/usr/bin/env python3
"""Records a small InfluxDB 1.x installation for the `tsm` crate's tests.

Starts Debian's influxd (1.6.7) on loopback with its directories under OUT,
writes every value type into two databases and three retention policies
(awkward names, duplicate points, runs that each TSM encoding is chosen for),
deletes some of it, waits until the first part is in TSM files, writes more
that stays only in the WAL, reads every value back through 1.x's own /query,
and stops it with SIGKILL (as a crash would). Leaves OUT/{meta,data,wal} and
OUT/expected.txt: one line per value, `db rp series-key field time value`,
sorted, as 1.x answered.

    python3 scripts/record-v1-fixture.py crates/tsm/tests/data/v1
"""
import json, os, struct, shutil, signal, socket, subprocess, sys, time, urllib.parse, urllib.request

BASE = 1_600_000_000_000_000_000  # 2020-09-13T12:26:40Z


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def main(out):
    global OUT
    out = OUT = os.path.abspath(out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    http, rpc = free_port(), free_port()
    conf = os.path.join(out, "influxdb.conf")
    with open(conf, "w") as f:
        f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{out}/meta"
[data]
  dir = "{out}/data"
  wal-dir = "{out}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "1h"
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
""")
    proc = subprocess.Popen(["influxd", "-config", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/ping"); break
            except OSError:
                time.sleep(0.1)
        run(url)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    os.remove(conf)
    for db in os.listdir(os.path.join(out, "data")):
        shutil.rmtree(os.path.join(out, "data", db, "_series"), ignore_errors=True)


def q(url, text, db=None):
    params = {"q": text, "epoch": "ns"}
    if db:
        params["db"] = db
    body = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(url + "/query", body) as r:
        ans = json.load(r)
    for res in ans["results"]:
        if "error" in res:
            raise SystemExit(f"{text}: {res['error']}")
    return ans


def write(url, db, rp, lines):
    u = f"{url}/write?db={db}&rp={rp}&precision=ns"
    req = urllib.request.Request(u, "\n".join(lines).encode(), method="POST")
    urllib.request.urlopen(req).read()


def flushed_part():
    """Lines for the TSM files: each block kind's encodings get a run."""
    lines = []
    for i in range(300):
        t = BASE + i * 10_000_000_000  # every 10 s: RLE timestamps
        lines.append(f"cpu,host=a,region=eu usage={i * 0.25 + 0.1},count={i}i,ok={'t' if i % 3 else 'f'} {t}")
        lines.append(f"cpu,host=b,region=eu usage={1.0 / (i + 1)},count={(i * 7919) % 1000 - 500}i {t + (i * 37) % 1000}")
        lines.append(f'log,host=a msg="line {i} \\"quoted\\", comma",level="info" {t}')
    for i in range(50):
        t = BASE + i * 1_000_000_007
        lines.append(f"big,host=a n={(2**62) + i * 3}i,neg={-(2**62) - i}i,f=1e300 {t}")
        lines.append(f"const,host=a v=5i,x=2.5 {BASE + i}")
        # Deltas past 2^60 after zigzag: integers stored raw.
        lines.append(f"swing,host=a n={(4 * 10**18) * (1 if i % 2 else -1) + i}i {BASE + i}")
    # Awkward names, escaped as line protocol escapes them.
    lines.append(r"my\ meas,tag\ one=va\,lue,t\=2=x\ y fi\ eld=1,\"q\"=2i " + str(BASE))
    lines.append(r"my\ meas,tag\ one=va\,lue,t\=2=x\ y fi\ eld=3 " + str(BASE + 1))
    lines.append('uni,ort=Zürich temp=21.5,label="é ✓" ' + str(BASE))
    # The same point twice: the later value is the one kept.
    lines.append(f"dup,host=a v=1 {BASE}")
    lines.append(f"dup,host=a v=2 {BASE}")
    return lines


def run(url):
    q(url, "CREATE DATABASE db1")
    q(url, "CREATE RETENTION POLICY forever ON db1 DURATION INF REPLICATION 1 SHARD DURATION 7d")
    q(url, "CREATE DATABASE db2 WITH DURATION INF REPLICATION 1 SHARD DURATION 1h NAME hourly")
    # A shard longer than 2^60 ns (36.5 years; groups align to Go's year 1) holds timestamps stored raw.
    q(url, "CREATE RETENTION POLICY wide ON db2 DURATION INF REPLICATION 1 SHARD DURATION 5000w")
    q(url, "CREATE USER admin WITH PASSWORD 'admin-pass' WITH ALL PRIVILEGES")
    q(url, "CREATE USER reader WITH PASSWORD 'reader-pass'")
    q(url, "GRANT READ ON db1 TO reader")
    q(url, "CREATE USER writer WITH PASSWORD 'writer-pass'")
    q(url, "GRANT WRITE ON db2 TO writer")
    q(url, "CREATE USER both WITH PASSWORD 'both-pass'")
    q(url, "GRANT ALL ON db1 TO both")
    q(url, "CREATE USER nobody WITH PASSWORD 'nobody-pass'")
    q(url, "CREATE CONTINUOUS QUERY cq_mean ON db1 BEGIN SELECT mean(usage) INTO db1.forever.cpu_mean FROM cpu GROUP BY time(1h) END")

    write(url, "db1", "autogen", flushed_part())
    write(url, "db1", "forever", [f"mem,host=a used={i}i,free={1000 - i}i {BASE + i * 60_000_000_000}" for i in range(120)])
    write(url, "db2", "hourly", [f"temp,room=r{i % 3} c={20 + i * 0.01} {BASE + i * 600_000_000_000}" for i in range(40)])
    write(url, "db2", "wide", ["span,host=a v=1i,f=0.5 10", "span,host=a v=2i,f=1.5 1200000000000000000", "span,host=a v=3i,f=2.5 1200000000000000001"])
    time.sleep(4)  # the caches go cold and are written to TSM files
    # Deletes against the TSM files: tombstones.
    q(url, f"DELETE FROM cpu WHERE host = 'b' AND time >= {BASE + 100 * 10_000_000_000} AND time < {BASE + 200 * 10_000_000_000}", "db1")
    q(url, "DROP SERIES FROM log WHERE host = 'a'", "db1")
    # More that only the WAL holds when the server is killed.
    write(url, "db1", "autogen", [f"cpu,host=c usage={i * 1.5},count={i}i {BASE + i * 10_000_000_000}" for i in range(20)]
          + [f"dup,host=a v=3 {BASE}", f'wal_only,host=z s="only in the log",b=true,u=7i {BASE + 5}'])
    write(url, "db1", "autogen", [f"cpu,host=c usage=99 {BASE + 3 * 10_000_000_000}"])
    q(url, f"DELETE FROM cpu WHERE host = 'c' AND time >= {BASE + 10 * 10_000_000_000} AND time < {BASE + 12 * 10_000_000_000}", "db1")
    write(url, "db2", "hourly", [f"temp,room=r9 c=-1.5 {BASE + 7}"])

    rows = []
    for db, rps in (("db1", ["autogen", "forever"]), ("db2", ["hourly", "wide"])):
        for rp in rps:
            ms = q(url, f'SHOW MEASUREMENTS ON "{db}"')["results"][0].get("series", [])
            names = [v[0] for v in ms[0]["values"]] if ms else []
            for m in names:
                qm = m.replace("\\", "\\\\").replace('"', '\\"')
                ans = q(url, f'SELECT * FROM "{db}"."{rp}"."{qm}" GROUP BY *', db)
                keys = q(url, f'SHOW FIELD KEYS ON "{db}" FROM "{rp}"."{qm}"')["results"][0].get("series", [])
                fields = {v[0]: v[1] for v in keys[0]["values"]} if keys else {}
                for s in ans["results"][0].get("series", []):
                    tags = s.get("tags", {})
                    key = esc_key(m, ", ") + "".join(f",{esc_key(k, ',= ')}={esc_key(v, ',= ')}" for k, v in sorted(tags.items()) if v != "")
                    cols = s["columns"]
                    for row in s["values"]:
                        for c, v in zip(cols[1:], row[1:]):
                            if v is None or c not in fields:
                                continue
                            rows.append(f"{db}\t{rp}\t{key}\t{c}\t{row[0]}\t{typed(fields[c], v)}")
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("".join(r + "\n" for r in sorted(rows)))


def typed(kind, v):
    """A value as the tests print it: floats by their bits, so nothing is lost."""
    if kind == "float":
        return "f:" + struct.pack(">d", float(v)).hex()
    if kind == "integer":
        return f"i:{v}"
    if kind == "unsigned":
        return f"u:{v}"
    if kind == "boolean":
        return f"b:{'true' if v else 'false'}"
    return "s:" + json.dumps(v, ensure_ascii=False)


def esc_key(s, chars):
    for c in chars:
        s = s.replace(c, "\\" + c)
    return s


if __name__ == "__main__":
    main(sys.argv[1])
