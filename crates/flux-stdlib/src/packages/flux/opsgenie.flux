// contrib/sranka/opsgenie: alerts through Opsgenie's Alert API.
// respondersToJSON is native.
package opsgenie

import "http"
import "json"
import "strings"

// `v` (or `defV` when it is empty) as a JSON string, cut to `max` characters.
_quoted = (v, max, defV="") => {
    s = if strings.strlen(v: v) != 0 then v else defV
    cut = if strings.strlen(v: s) > max then strings.substring(v: s, start: 0, end: max) else s

    return string(v: json.encode(v: cut))
}

// Posts one alert; answers the HTTP status.
sendAlert = (
    url="https://api.opsgenie.com/v2/alerts",
    apiKey,
    message,
    alias="",
    description="",
    priority="P3",
    responders=[],
    tags=[],
    entity="",
    actions=[],
    visibleTo=[],
    details="{}",
) => {
    body =
        "{
\"message\": ${_quoted(v: message, max: 130)},
\"alias\": ${_quoted(v: alias, max: 512, defV: message)},
\"description\": ${_quoted(v: description, max: 15000)},
\"responders\": ${respondersToJSON(v: responders)},
\"visibleTo\": ${respondersToJSON(v: visibleTo)},
\"actions\": ${string(v: json.encode(v: actions))},
\"tags\": ${string(v: json.encode(v: tags))},
\"details\": ${details},
\"entity\": ${_quoted(v: entity, max: 512)},
\"priority\": ${_quoted(v: priority, max: 2)}
}"
    headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": "GenieKey " + apiKey}

    return http.post(url: url, headers: headers, data: bytes(v: body))
}

// An endpoint for monitor.notify: mapFn gives each row's message, alias,
// description, priority, responders, tags, actions, visibleTo and details.
endpoint = (url="https://api.opsgenie.com/v2/alerts", apiKey, entity="") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            sendAlert(
                                url: url,
                                apiKey: apiKey,
                                entity: entity,
                                message: m.message,
                                alias: m.alias,
                                description: m.description,
                                priority: m.priority,
                                responders: m.responders,
                                tags: m.tags,
                                actions: m.actions,
                                visibleTo: m.visibleTo,
                                details: m.details,
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
