"""The official Python client's (influxdb-client) TemplatesService: a
template applied (its summary read into the client's models), the stack it
made listed and read, exported by stack, uninstalled and deleted.

Usage: templates_client.py URL TOKEN ORG. Prints one "<step> ok" line per
step; any failure raises.
"""
import sys

from influxdb_client import InfluxDBClient
from influxdb_client.domain.template_apply import TemplateApply
from influxdb_client.domain.template_apply_template import TemplateApplyTemplate
from influxdb_client.domain.template_export_by_id import TemplateExportByID
from influxdb_client.service.templates_service import TemplatesService

url, token, org_name = sys.argv[1:4]
client = InfluxDBClient(url=url, token=token, org=org_name)
org = client.organizations_api().find_organizations(org=org_name)[0]
templates = TemplatesService(client.api_client)
contents = [
    {"apiVersion": "influxdata.com/v2alpha1", "kind": "Label", "metadata": {"name": "py-label"}, "spec": {"color": "#fff"}},
    {"apiVersion": "influxdata.com/v2alpha1", "kind": "Bucket", "metadata": {"name": "py-bucket"},
     "spec": {"associations": [{"kind": "Label", "name": "py-label"}]}},
]
applied = templates.apply_template(
    TemplateApply(dry_run=False, org_id=org.id, template=TemplateApplyTemplate(content_type="json", contents=contents)))
assert [b.name for b in applied.summary.buckets] == ["py-bucket"], applied.summary.buckets
assert [l.name for l in applied.summary.labels] == ["py-label"], applied.summary.labels
assert client.buckets_api().find_bucket_by_name("py-bucket") is not None
print("apply ok")

stacks = templates.list_stacks(org_id=org.id).stacks
assert [s.id for s in stacks] == [applied.stack_id], stacks
stack = templates.read_stack(applied.stack_id)
assert sorted(r.template_meta_name for r in stack.events[-1].resources) == ["py-bucket", "py-label"], stack
print("stacks ok")

exported = templates.export_template(template_export_by_id=TemplateExportByID(stack_id=applied.stack_id))
assert [o["kind"] for o in exported] == ["Label", "Bucket"], exported
print("export ok")

templates.uninstall_stack(applied.stack_id)
assert client.buckets_api().find_bucket_by_name("py-bucket") is None
templates.delete_stack(applied.stack_id, org_id=org.id)
assert templates.list_stacks(org_id=org.id).stacks == []
print("uninstall ok")
