"""The official Python client's (influxdb-client) alerting services: checks
(threshold, deadman, custom), notification endpoints (slack, pagerduty, http,
telegram) and notification rules (slack, pagerduty, http, telegram), each
created, listed, read, updated and deleted through ChecksService,
NotificationEndpointsService and NotificationRulesService, the answers read
into the client's own models.

Usage: alerts_client.py URL TOKEN ORG. Prints one "<group> ok" line per
group; any failure raises.
"""
import sys

from influxdb_client import InfluxDBClient
from influxdb_client.domain.check_status_level import CheckStatusLevel
from influxdb_client.domain.custom_check import CustomCheck
from influxdb_client.domain.dashboard_query import DashboardQuery
from influxdb_client.domain.deadman_check import DeadmanCheck
from influxdb_client.domain.greater_threshold import GreaterThreshold
from influxdb_client.domain.http_notification_endpoint import HTTPNotificationEndpoint
from influxdb_client.domain.http_notification_rule import HTTPNotificationRule
from influxdb_client.domain.notification_endpoint_update import NotificationEndpointUpdate
from influxdb_client.domain.notification_rule_update import NotificationRuleUpdate
from influxdb_client.domain.check_patch import CheckPatch
from influxdb_client.domain.pager_duty_notification_endpoint import PagerDutyNotificationEndpoint
from influxdb_client.domain.pager_duty_notification_rule import PagerDutyNotificationRule
from influxdb_client.domain.query_edit_mode import QueryEditMode
from influxdb_client.domain.range_threshold import RangeThreshold
from influxdb_client.domain.rule_status_level import RuleStatusLevel
from influxdb_client.domain.slack_notification_endpoint import SlackNotificationEndpoint
from influxdb_client.domain.slack_notification_rule import SlackNotificationRule
from influxdb_client.domain.status_rule import StatusRule
from influxdb_client.domain.tag_rule import TagRule
from influxdb_client.domain.task_status_type import TaskStatusType
from influxdb_client.domain.telegram_notification_endpoint import TelegramNotificationEndpoint
from influxdb_client.domain.telegram_notification_rule import TelegramNotificationRule
from influxdb_client.domain.threshold_check import ThresholdCheck
from influxdb_client.rest import ApiException
from influxdb_client.service.checks_service import ChecksService
from influxdb_client.service.notification_endpoints_service import NotificationEndpointsService
from influxdb_client.service.notification_rules_service import NotificationRulesService

url, token, org_name = sys.argv[1:4]

QUERY = 'from(bucket: "b") |> range(start: -1m) |> filter(fn: (r) => r._field == "usage") |> aggregateWindow(every: 1m, fn: mean)'
CUSTOM = """import "influxdata/influxdb/monitor"

option task = {name: "py custom", every: 1m, offset: 0s}

check = {_check_id: "", _check_name: "py custom", _type: "custom", tags: {}}

from(bucket: "b") |> range(start: -1m) |> monitor["check"](data: check, messageFn: (r) => "m")
"""


def gone(call):
    try:
        call()
    except ApiException as e:
        assert e.status == 404, (e.status, e.body)
        return
    raise AssertionError("still there")


with InfluxDBClient(url=url, token=token, org=org_name) as client:
    org = client.organizations_api().find_organizations(org=org_name)[0]
    checks = ChecksService(client.api_client)
    endpoints = NotificationEndpointsService(client.api_client)
    rules = NotificationRulesService(client.api_client)

    query = DashboardQuery(edit_mode=QueryEditMode.ADVANCED, name="q", text=QUERY)
    made = [
        checks.create_check(ThresholdCheck(
            name="py threshold", org_id=org.id, query=query, every="1m", offset="0s", status=TaskStatusType.ACTIVE,
            status_message_template="${r._level}", tags=[],
            thresholds=[GreaterThreshold(type="greater", level=CheckStatusLevel.CRIT, value=90.0),
                        RangeThreshold(type="range", level=CheckStatusLevel.WARN, min=50.0, max=90.0, within=True)])),
        checks.create_check(DeadmanCheck(
            name="py deadman", org_id=org.id, query=query, every="1m", status=TaskStatusType.ACTIVE,
            time_since="90s", stale_time="10m", report_zero=False, level=CheckStatusLevel.CRIT,
            status_message_template="dead", tags=[])),
        checks.create_check(CustomCheck(
            name="py custom", org_id=org.id, status=TaskStatusType.ACTIVE,
            query=DashboardQuery(edit_mode=QueryEditMode.ADVANCED, text=CUSTOM))),
    ]
    assert [type(c).__name__ for c in made] == ["ThresholdCheck", "DeadmanCheck", "CustomCheck"], made
    assert all(c.task_id and c.status == "active" for c in made), made
    listed = checks.get_checks(org_id=org.id).checks
    assert sorted(c.name for c in listed) == ["py custom", "py deadman", "py threshold"], listed
    threshold = checks.get_checks_id(made[0].id)
    assert [t.value if t.type == "greater" else (t.min, t.max) for t in threshold.thresholds] == [90.0, (50.0, 90.0)]
    assert "warn = (r) =>" in checks.get_checks_id_query(made[0].id).flux
    threshold.every = "5m"
    put = checks.put_checks_id(made[0].id, threshold)
    assert put.every == "5m", put
    assert "every: 5m" in checks.get_checks_id_query(made[0].id).flux
    patched = checks.patch_checks_id(made[1].id, CheckPatch(name="py deadman 2", status="inactive"))
    assert (patched.name, patched.status) == ("py deadman 2", "inactive"), patched
    assert made[2].id in checks.get_checks_id_query(made[2].id).flux
    print("checks ok")

    eps = [
        endpoints.create_notification_endpoint(SlackNotificationEndpoint(
            type="slack", name="py slack", org_id=org.id, status="active", url="http://127.0.0.1:9/slack", token="xoxb")),
        endpoints.create_notification_endpoint(PagerDutyNotificationEndpoint(
            type="pagerduty", name="py pagerduty", org_id=org.id, status="active", client_url="http://c", routing_key="rk")),
        endpoints.create_notification_endpoint(HTTPNotificationEndpoint(
            type="http", name="py http", org_id=org.id, status="active", url="http://127.0.0.1:9/hook", method="POST",
            auth_method="bearer", token="tok")),
        endpoints.create_notification_endpoint(TelegramNotificationEndpoint(
            type="telegram", name="py telegram", org_id=org.id, status="active", token="bot", channel="-100")),
    ]
    kinds = [type(e).__name__ for e in eps]
    assert kinds == ["SlackNotificationEndpoint", "PagerDutyNotificationEndpoint", "HTTPNotificationEndpoint",
                     "TelegramNotificationEndpoint"], kinds
    assert eps[0].token == f"secret: {eps[0].id}-token", eps[0]
    assert eps[1].routing_key == f"secret: {eps[1].id}-routing-key", eps[1]
    listed = endpoints.get_notification_endpoints(org_id=org.id).notification_endpoints
    assert len(listed) == 4, listed
    updated = endpoints.patch_notification_endpoints_id(eps[3].id, NotificationEndpointUpdate(description="d"))
    assert updated.description == "d", updated
    print("endpoints ok")

    def rule(cls, name, endpoint, **extra):
        return rules.create_notification_rule(cls(
            name=name, org_id=org.id, status="active", every="1m", endpoint_id=endpoint.id,
            status_rules=[StatusRule(current_level=RuleStatusLevel.CRIT)],
            tag_rules=[TagRule(key="team", value="ops", operator="equal")], **extra))

    made_rules = [
        rule(SlackNotificationRule, "py slack rule", eps[0], type="slack", channel="#ops", message_template="m"),
        rule(PagerDutyNotificationRule, "py pagerduty rule", eps[1], type="pagerduty", message_template="m"),
        rule(HTTPNotificationRule, "py http rule", eps[2], type="http"),
        rule(TelegramNotificationRule, "py telegram rule", eps[3], type="telegram", message_template="m"),
    ]
    kinds = [type(r).__name__ for r in made_rules]
    assert kinds == ["SlackNotificationRule", "PagerDutyNotificationRule", "HTTPNotificationRule",
                     "TelegramNotificationRule"], kinds
    assert all(r.task_id and r.status == "active" for r in made_rules), made_rules
    listed = rules.get_notification_rules(org_id=org.id).notification_rules
    assert len(listed) == 4, listed
    slack_rule = rules.get_notification_rules_id(made_rules[0].id)
    slack_rule.channel = "#alerts"
    put = rules.put_notification_rules_id(made_rules[0].id, slack_rule)
    assert put.channel == "#alerts", put
    patched = rules.patch_notification_rules_id(made_rules[2].id, NotificationRuleUpdate(status="inactive"))
    assert patched.status == "inactive", patched
    print("rules ok")

    for r in made_rules:
        rules.delete_notification_rules_id(r.id)
        gone(lambda: rules.get_notification_rules_id(r.id))
    for e in eps:
        endpoints.delete_notification_endpoints_id(e.id)
        gone(lambda: endpoints.get_notification_endpoints_id(e.id))
    for c in made:
        checks.delete_checks_id(c.id)
        gone(lambda: checks.get_checks_id(c.id))
    print("deletes ok")
