"""The dashboards and labels APIs of the official Python client against oxiflux.

Usage: dashboards_client.py URL TOKEN ORG. Prints one "<step> ok" line per step.
"""
import sys

from influxdb_client import InfluxDBClient
from influxdb_client.domain.create_cell import CreateCell
from influxdb_client.domain.create_dashboard_request import CreateDashboardRequest
from influxdb_client.domain.label_mapping import LabelMapping
from influxdb_client.service.dashboards_service import DashboardsService

url, token, org_name = sys.argv[1:4]

with InfluxDBClient(url=url, token=token, org=org_name) as client:
    org = client.organizations_api().find_organizations(org=org_name)[0]

    labels = client.labels_api()
    label = labels.create_label(name="team", org_id=org.id, properties={"color": "#00ff00", "description": "the team"})
    assert label.properties["color"] == "#00ff00", label
    assert any(l.id == label.id for l in labels.find_labels())
    label.name = "squad"
    assert labels.update_label(label).name == "squad"
    print("labels ok")

    dashboards = DashboardsService(client.api_client)
    made = dashboards.post_dashboards(create_dashboard_request=CreateDashboardRequest(org_id=org.id, name="ops", description="d"))
    assert made.name == "ops", made
    found = dashboards.get_dashboards(org_id=org.id)
    assert [d.id for d in found.dashboards] == [made.id], found
    print("dashboards ok")

    cell = dashboards.post_dashboards_id_cells(dashboard_id=made.id, create_cell=CreateCell(name="cpu", x=0, y=0, w=4, h=3))
    assert cell.w == 4, cell
    view = dashboards.get_dashboards_id_cells_id_view(dashboard_id=made.id, cell_id=cell.id)
    assert view.name == "cpu", view
    got = dashboards.get_dashboards_id(dashboard_id=made.id)
    assert len(got.cells) == 1
    print("cells ok")

    dashboards.post_dashboards_id_labels(dashboard_id=made.id, label_mapping=LabelMapping(label_id=label.id))
    assert [l.id for l in dashboards.get_dashboards_id_labels(dashboard_id=made.id).labels] == [label.id]
    dashboards.delete_dashboards_id(dashboard_id=made.id)
    labels.delete_label(label)
    print("dashboard labels ok")
