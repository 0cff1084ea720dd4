"""Drives oxiflux's tenancy API with the official Python client, `influxdb-client`.

Usage: tenancy_client.py URL OPERATOR_TOKEN ORG_NAME
Creates, lists, updates and deletes orgs, users, buckets, labels and
authorizations; any mismatch raises. Prints one line per resource checked.
"""

import sys

from influxdb_client import (
    BucketRetentionRules,
    InfluxDBClient,
    Permission,
    PermissionResource,
)
from influxdb_client.rest import ApiException

url, token, setup_org = sys.argv[1], sys.argv[2], sys.argv[3]

with InfluxDBClient(url=url, token=token, org=setup_org) as client:
    assert client.ping(), "ping"
    assert client.health().status == "pass", "health"
    assert client.version().startswith("v"), client.version()

    # Organizations
    orgs = client.organizations_api()
    org = orgs.create_organization(name="py-org")
    assert org.id and len(org.id) == 16, org
    assert "py-org" in [o.name for o in orgs.find_organizations()]
    assert orgs.find_organization(org.id).name == "py-org"
    org.description = "made by python"
    assert orgs.update_organization(org).description == "made by python"
    print("orgs ok")

    # Users
    users = client.users_api()
    user = users.create_user(name="py-user")
    found = users.find_users(name="py-user").users
    assert [u.id for u in found] == [user.id], found
    user.name = "py-user-2"
    assert users.update_user(user).name == "py-user-2"
    users.update_password(user, "python-password")
    assert users.me().name == "admin"
    print("users ok")

    # Buckets
    buckets = client.buckets_api()
    rules = BucketRetentionRules(type="expire", every_seconds=3600)
    bucket = buckets.create_bucket(bucket_name="py-bucket", retention_rules=rules, org_id=org.id)
    assert bucket.retention_rules[0].every_seconds == 3600
    assert bucket.retention_rules[0].shard_group_duration_seconds == 3600
    assert buckets.find_bucket_by_id(bucket.id).name == "py-bucket"
    assert buckets.find_bucket_by_name("py-bucket").id == bucket.id
    names = [b.name for b in buckets.find_buckets(org_id=org.id).buckets]
    assert names == ["_monitoring", "_tasks", "py-bucket"], names
    paged = list(buckets.find_buckets_iter(org_id=org.id, limit=1))
    assert [b.name for b in paged] == names, [b.name for b in paged]
    bucket.description = "python bucket"
    assert buckets.update_bucket(bucket).description == "python bucket"
    print("buckets ok")

    # Labels
    labels = client.labels_api()
    label = labels.create_label(name="py-label", org_id=org.id, properties={"color": "ffb3b3"})
    assert label.properties == {"color": "ffb3b3"}, label
    label.name = "py-label-2"
    assert labels.update_label(label).name == "py-label-2"
    assert labels.find_label_by_id(label.id).name == "py-label-2"
    assert [l.name for l in labels.find_label_by_org(org.id)] == ["py-label-2"]
    print("labels ok")

    # Authorizations
    auths = client.authorizations_api()
    resource = PermissionResource(type="buckets", org_id=org.id, id=bucket.id)
    perms = [Permission(action="read", resource=resource), Permission(action="write", resource=resource)]
    auth = auths.create_authorization(org_id=org.id, permissions=perms)
    assert auth.token and auth.status == "active", auth
    assert auths.find_authorization_by_id(auth.id).id == auth.id
    assert auth.id in [a.id for a in auths.find_authorizations_by_org_id(org.id)]
    with InfluxDBClient(url=url, token=auth.token, org="py-org") as scoped:
        assert scoped.buckets_api().find_bucket_by_id(bucket.id).name == "py-bucket"
    auth.status = "inactive"
    assert auths.update_authorization(auth).status == "inactive"
    with InfluxDBClient(url=url, token=auth.token, org="py-org") as scoped:
        try:
            scoped.buckets_api().find_bucket_by_id(bucket.id)
            raise AssertionError("an inactive token was accepted")
        except ApiException as e:
            assert e.status == 401, e.status
    auths.delete_authorization(auth)
    print("authorizations ok")

    # Write and query through the client's own APIs.
    from influxdb_client.client.write_api import SYNCHRONOUS

    client.write_api(write_options=SYNCHRONOUS).write(
        bucket="metrics", org=setup_org, record=["py,host=x v=1.5 1577836800000000000", "py,host=y v=2.5 1577836800000000000"]
    )
    flux = (
        'from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-02T00:00:00Z) '
        '|> filter(fn: (r) => r._measurement == "py")'
    )
    tables = client.query_api().query(flux, org=setup_org)
    assert len(tables) == 2, tables
    got = sorted((t.records[0].values["host"], t.records[0].get_value(), t.records[0].get_field()) for t in tables)
    assert got == [("x", 1.5, "v"), ("y", 2.5, "v")], got
    assert str(tables[0].records[0].get_time()) == "2020-01-01 00:00:00+00:00", tables[0].records[0].get_time()
    csv_rows = list(client.query_api().query_csv(flux, org=setup_org))
    assert any(row[-1] == "y" for row in csv_rows), csv_rows
    print("write and query ok")

    # Clean up, and check each delete took.
    labels.delete_label(label)
    buckets.delete_bucket(bucket)
    users.delete_user(user)
    orgs.delete_organization(org.id)
    try:
        orgs.find_organization(org.id)
        raise AssertionError("deleted org still found")
    except ApiException as e:
        assert e.status == 404, e.status
    print("deletes ok")
