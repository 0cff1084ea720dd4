// contrib/bonitoo-io/servicenow: events to ServiceNow's Event Management.
package servicenow

import "experimental/record"
import "http"
import "json"

// ServiceNow's severity numbers.
_severity = (s) =>
    if s == "critical" then
        "1"
    else if s == "major" then
        "2"
    else if s == "minor" then
        "3"
    else if s == "warning" then
        "4"
    else if s == "info" then
        "5"
    else if s == "clear" then
        "0"
    else
        ""

// Posts one event with basic authentication; answers the HTTP status.
event = (
    url,
    username,
    password,
    source="Flux",
    node="",
    metricType="",
    resource="",
    metricName="",
    messageKey="",
    description,
    severity,
    additionalInfo=record.any,
) => {
    e = {
        source: source,
        node: node,
        type: metricType,
        resource: resource,
        metric_name: metricName,
        message_key: messageKey,
        description: description,
        severity: _severity(s: severity),
        additional_info: if additionalInfo == record.any then "" else string(v: json.encode(v: additionalInfo)),
    }
    headers = {"Authorization": http.basicAuth(u: username, p: password), "Content-Type": "application/json"}

    return http.post(url: url, headers: headers, data: json.encode(v: {records: [e]}))
}

// An endpoint for monitor.notify: mapFn gives each row's node, metricType,
// resource, metricName, messageKey, description, severity and (optionally)
// additionalInfo.
endpoint = (url, username, password, source="Flux") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            event(
                                url: url,
                                username: username,
                                password: password,
                                source: source,
                                node: m.node,
                                metricType: m.metricType,
                                resource: m.resource,
                                metricName: m.metricName,
                                messageKey: m.messageKey,
                                description: m.description,
                                severity: m.severity,
                                additionalInfo: record.get(r: m, key: "additionalInfo", default: record.any),
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
