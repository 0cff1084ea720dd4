"""What the official Python client (influxdb-client) reads from an answer,
one group at a time: an org given by ID, task errors worded as 2.7 words
them, query parameters and profilers (sent as `extern`), the headers and
body of a write error, a task cloned with its labels, a deleted user.

Usage: contract_client.py URL TOKEN ORG. Prints one "<group> ok" line per
group; any failure raises.
"""
import re
import sys
from datetime import datetime, timedelta, timezone

from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.query_api import QueryOptions
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

url, token, org_name = sys.argv[1:4]
NO_TASK = "020f755c3c082000"


def refused(call, status, pattern):
    """The call fails with `status` and a message matching `pattern`; its error."""
    try:
        call()
    except ApiException as e:
        assert e.status == status, (e.status, e.body)
        message = __import__("json").loads(e.body)["message"]
        assert re.match(pattern, message), message
        return e
    raise AssertionError("no error")


with InfluxDBClient(url=url, token=token, org=org_name) as client:
    org = client.organizations_api().find_organizations(org=org_name)[0]
    bucket = client.buckets_api().create_bucket(bucket_name="py-contract", org=org)
    write = client.write_api(write_options=SYNCHRONOUS)
    query = client.query_api()

    # The org as an ID, where the client is configured with one.
    t0 = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
    points = [Point("h2o").tag("loc", loc).field("level", level).time(t0 + timedelta(seconds=i))
              for i, (loc, level) in enumerate([("a", 1.0), ("a", 2.0), ("b", 5.0)])]
    write.write(bucket=bucket.name, org=org.id, record=points)
    tables = query.query(f'from(bucket: "{bucket.name}") |> range(start: 2024-03-10T00:00:00Z) |> count()',
                         org=org.id)
    assert sorted(r.get_value() for t in tables for r in t.records) == [1, 2], tables
    client.delete_api().delete(t0, t0 + timedelta(seconds=1), '_measurement="h2o" AND loc="a"',
                               bucket=bucket.name, org=org.id)
    left = query.query(f'from(bucket: "{bucket.name}") |> range(start: 2024-03-10T00:00:00Z)', org=org.id)
    # The range takes both ends, as 2.7's does.
    assert [r.get_value() for t in left for r in t.records] == [5.0], left
    print("org id ok")

    # Parameters become options of the query's extern, read by name.
    q = '''from(bucket: bucketParam)
      |> range(start: startParam, stop: stopParam)
      |> filter(fn: (r) => r.loc == locParam and r._value > overParam)'''
    params = {"bucketParam": bucket.name, "startParam": t0, "stopParam": t0 + timedelta(minutes=1),
              "locParam": "b", "overParam": 1}
    got = [r.get_value() for t in query.query(q, params=params) for r in t.records]
    assert got == [5.0], got
    print("params ok")

    # Profilers: their tables go to the callback, not among the results.
    profiled = []
    options = QueryOptions(profilers=["query", "operator"], profiler_callback=profiled.append)
    tables = client.query_api(query_options=options).query(q, params=params)
    assert [r.get_value() for t in tables for r in t.records] == [5.0], tables
    measurements = {r["_measurement"] for r in profiled}
    assert measurements == {"profiler/query", "profiler/operator"}, measurements
    query_profile = next(r for r in profiled if r["_measurement"] == "profiler/query")
    assert query_profile["TotalDuration"] >= query_profile["ExecuteDuration"] > 0, query_profile.values
    print("profilers ok")

    # A write error: what the client reads from the answer.
    error = refused(lambda: write.write(bucket=bucket.name, record="h2o,loc=a level\\"), 400,
                    r"^unable to parse.*invalid field format")
    headers = error.headers
    assert headers.get("X-Platform-Error-Code") == "invalid", headers
    assert re.match(r"^v", headers.get("X-Influxdb-Version")), headers
    assert headers.get("X-Influxdb-Build") == "OSS", headers
    assert "application/json" in headers.get("Content-Type") and headers.get("Content-Length"), headers
    refused(lambda: write.write(bucket=bucket.name, record="h2o,loc=a level="), 400,
            r"^unable to parse.*missing field value")
    print("write error ok")

    # Task errors, worded as 2.7 wraps them.
    tasks = client.tasks_api()
    refused(lambda: tasks.find_task_by_id(NO_TASK), 404, r"^failed to find task: task not found")
    refused(lambda: tasks.get_runs(NO_TASK), 404, r"^failed to find runs: task not found")
    refused(lambda: tasks.run_manually(NO_TASK), 404, r"^failed to force run: task not found")
    refused(lambda: tasks.get_logs(NO_TASK), 404, r"^failed to find task logs: task not found")
    task = tasks.create_task_every(name="py-contract-task", flux='import "array"\narray.from(rows: [{v: 1}])',
                                   every="1h", organization=org)
    refused(lambda: tasks.cancel_run(task.id, NO_TASK), 404, r"^failed to cancel run: run not found")
    refused(lambda: tasks.retry_run(task.id, NO_TASK), 404, r"^failed to retry run: run not found")
    print("task errors ok")

    # A task cloned with its labels.
    label = client.labels_api().create_label(name="py-contract-label", org_id=org.id)
    tasks.add_label(label.id, task.id)
    clone = tasks.clone_task(task)
    assert clone.id != task.id and clone.name == task.name, clone
    assert [lb.name for lb in tasks.get_labels(clone.id).labels] == ["py-contract-label"]
    print("clone ok")

    # A deleted user is not found, by ID or by name.
    users = client.users_api()
    user = users.create_user(name="py-contract-user")
    users.delete_user(user)
    refused(lambda: users._service.get_users_id(user.id), 404, r"^user not found")
    refused(lambda: users.find_users(name="py-contract-user"), 404, r"^user not found")
    print("deleted user ok")
