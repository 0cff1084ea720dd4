// pagerduty: events to PagerDuty's Events API v2. dedupKey is native.
package pagerduty

import "experimental/record"
import "http/requests"
import "json"
import "strings"

option defaultURL = "https://events.pagerduty.com/v2/enqueue"

// A check level as a PagerDuty severity.
severityFromLevel = (level) => {
    l = strings.toLower(v: level)

    return
        if l == "crit" then
            "critical"
        else if l == "warn" then
            "warning"
        else if l == "info" or l == "ok" then
            "info"
        else
            "error"
}

// `ok` resolves an incident; anything else triggers one.
actionFromSeverity = (severity) => if strings.toLower(v: severity) == "ok" then "resolve" else "trigger"

actionFromLevel = (level) => if strings.toLower(v: level) == "ok" then "resolve" else "trigger"

// Sends one event; answers the whole response.
_sendEvent = (
    pagerdutyURL=defaultURL,
    routingKey,
    client,
    clientURL,
    dedupKey,
    class,
    group,
    severity,
    eventAction,
    source,
    component="",
    summary,
    timestamp,
    customDetails=record.any,
) => {
    payload = {
        summary: strings.substring(v: summary, start: 0, end: 1023),
        timestamp: timestamp,
        source: source,
        component: component,
        severity: severity,
        group: group,
        class: class,
    }
    event = {
        payload: payload,
        routing_key: routingKey,
        dedup_key: dedupKey,
        event_action: eventAction,
        client: client,
        client_url: clientURL,
    }
    body =
        if customDetails == record.any then
            json.encode(v: event)
        else
            json.encode(v: {event with payload: {payload with custom_details: customDetails}})
    headers = ["Accept": "application/vnd.pagerduty+json;version=2", "Content-Type": "application/json"]

    return requests.do(method: "POST", url: pagerdutyURL, headers: headers, body: body)
}

// Sends one event; answers the HTTP status.
sendEvent = (
    pagerdutyURL=defaultURL,
    routingKey,
    client,
    clientURL,
    dedupKey,
    class,
    group,
    severity,
    eventAction,
    source,
    component="",
    summary,
    timestamp,
    customDetails=record.any,
) =>
    _sendEvent(
        pagerdutyURL: pagerdutyURL,
        routingKey: routingKey,
        client: client,
        clientURL: clientURL,
        dedupKey: dedupKey,
        class: class,
        group: group,
        severity: severity,
        eventAction: eventAction,
        source: source,
        component: component,
        summary: summary,
        timestamp: timestamp,
        customDetails: customDetails,
    ).statusCode

// An endpoint for monitor.notify: each row's series gives its dedup key,
// mapFn the rest of the event.
endpoint = (url=defaultURL) =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> dedupKey()
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        response =
                            _sendEvent(
                                pagerdutyURL: url,
                                routingKey: m.routingKey,
                                client: m.client,
                                clientURL: m.clientURL,
                                dedupKey: r._pagerdutyDedupKey,
                                class: m.class,
                                group: m.group,
                                severity: m.severity,
                                eventAction: m.eventAction,
                                source: m.source,
                                component: record.get(r: m, key: "component", default: ""),
                                summary: m.summary,
                                timestamp: m.timestamp,
                                customDetails: record.get(r: m, key: "customDetails", default: record.any),
                            )

                        return {r with
                            _sent: string(v: 2 == response.statusCode / 100),
                            _status: string(v: response.statusCode),
                            _body: string(v: response.body),
                        }
                    },
                )
