"""The tasks API of the official Python client (influxdb-client) against oxiflux.

Usage: tasks_client.py URL TOKEN ORG. Prints one "<step> ok" line per step;
any failure raises.
"""
import sys
import time

from influxdb_client import InfluxDBClient

url, token, org_name = sys.argv[1:4]

with InfluxDBClient(url=url, token=token, org=org_name) as client:
    tasks = client.tasks_api()
    org = client.organizations_api().find_organizations(org=org_name)[0]

    task = tasks.create_task_every(
        name="py-task", flux='import "array"\narray.from(rows: [{v: 1}])', every="1s", organization=org
    )
    assert task.name == "py-task" and task.every == "1s" and task.status == "active", task
    assert 'option task = {name: "py-task", every: 1s}' in task.flux, task.flux
    print("create ok")

    found = tasks.find_tasks(name="py-task")
    assert [t.id for t in found] == [task.id], found
    assert tasks.find_task_by_id(task.id).org_id == org.id
    print("find ok")

    runs = []
    for _ in range(100):
        runs = tasks.get_runs(task.id)
        if any(r.status == "success" for r in runs):
            break
        time.sleep(0.1)
    done = [r for r in runs if r.status == "success"]
    assert done, runs
    assert done[0].scheduled_for is not None and done[0].finished_at is not None
    print("runs ok")

    logs = tasks.get_run_logs(task.id, done[0].id)
    assert any(e.message == "Completed(success)" for e in logs), logs
    assert any(e.message.startswith("Started task from script") for e in tasks.get_logs(task.id)), "task logs"
    print("logs ok")

    manual = tasks.run_manually(task.id)
    assert manual.status == "scheduled" and manual.requested_at is not None, manual

    task.description = "changed by python"
    task.status = "inactive"
    updated = tasks.update_task(task)
    assert updated.description == "changed by python" and updated.status == "inactive", updated
    print("update ok")

    tasks.delete_task(task.id)
    assert tasks.find_tasks(name="py-task") == []
    print("delete ok")
