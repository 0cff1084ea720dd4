// contrib/bonitoo-io/zenoss: events through Zenoss's JSON API (an RPC call
// of its EventsRouter), with an API key or basic authentication.
package zenoss

import "http"
import "json"

// Posts one event; answers the HTTP status.
event = (
    url,
    username="",
    password="",
    apiKey="",
    action="EventsRouter",
    method="add_event",
    type="rpc",
    tid=1,
    summary="",
    device="",
    component="",
    severity,
    eventClass="",
    eventClassKey="",
    collector="",
    message="",
) => {
    e = {
        summary: summary,
        device: device,
        component: component,
        severity: severity,
        evclass: eventClass,
        evclasskey: eventClassKey,
        collector: collector,
        message: message,
    }
    body = json.encode(v: {action: action, method: method, data: [e], type: type, tid: tid})
    json_only = {"Content-Type": "application/json"}
    headers =
        if apiKey != "" then
            {json_only with "z-api-key": apiKey}
        else
            {json_only with "Authorization": http.basicAuth(u: username, p: password)}

    return http.post(url: url, headers: headers, data: body)
}

// An endpoint for monitor.notify: mapFn gives each row's summary, device,
// component, severity, eventClass, eventClassKey, collector and message.
endpoint = (
    url,
    username="",
    password="",
    apiKey="",
    action="EventsRouter",
    method="add_event",
    type="rpc",
    tid=1,
) =>
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
                                apiKey: apiKey,
                                action: action,
                                method: method,
                                type: type,
                                tid: tid,
                                summary: m.summary,
                                device: m.device,
                                component: m.component,
                                severity: m.severity,
                                eventClass: m.eventClass,
                                eventClassKey: m.eventClassKey,
                                collector: m.collector,
                                message: m.message,
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
