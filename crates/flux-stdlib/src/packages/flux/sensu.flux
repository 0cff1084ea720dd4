// contrib/sranka/sensu: events to a Sensu Go backend. toSensuName is native.
package sensu

import "http"
import "json"

// Posts one event for a proxy entity; status 0 is passing, anything else
// failing unless a state is given. Answers the HTTP status.
event = (
    url,
    apiKey,
    checkName,
    text,
    handlers=[],
    status=0,
    state="",
    namespace="default",
    entityName="influxdb",
) => {
    check = {
        output: text,
        state: if state != "" then state else if status == 0 then "passing" else "failing",
        status: status,
        handlers: handlers,
        interval: 60,
        metadata: {name: toSensuName(v: checkName)},
    }
    body = json.encode(v: {entity: {entity_class: "proxy", metadata: {name: toSensuName(v: entityName)}}, check: check})
    headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": "Key " + apiKey}

    return http.post(url: url + "/api/core/v2/namespaces/" + namespace + "/events", headers: headers, data: body)
}

// An endpoint for monitor.notify: mapFn gives each row's checkName, text and status.
endpoint = (url, apiKey, handlers=[], namespace="default", entityName="influxdb") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            event(
                                url: url,
                                apiKey: apiKey,
                                checkName: m.checkName,
                                text: m.text,
                                handlers: handlers,
                                status: m.status,
                                namespace: namespace,
                                entityName: entityName,
                            )

                        return {r with _sent: string(v: 2 == status / 100)}
                    },
                )
