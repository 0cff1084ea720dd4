// contrib/rhajek/bigpanda: alerts to BigPanda's Alerts API.
package bigpanda

import "http"
import "json"
import "strings"

option defaultUrl = "https://api.bigpanda.io/data/v2/alerts"
option defaultTokenPrefix = "Bearer"

// A check level as a BigPanda status.
statusFromLevel = (level) => {
    l = strings.toLower(v: level)

    return if l == "warn" then "warning" else if l == "info" or l == "ok" then "ok" else "critical"
}

// Posts one alert: the record `rec` with the app key and status. Answers
// the HTTP status.
sendAlert = (url, token, appKey, status, rec) => {
    headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": defaultTokenPrefix + " " + token}

    return http.post(url: url, headers: headers, data: json.encode(v: {rec with app_key: appKey, status: status}))
}

// An endpoint for monitor.notify: mapFn gives each row's alert record, its
// status among it.
endpoint = (url=defaultUrl, token, appKey) =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status = sendAlert(url: url, token: token, appKey: appKey, status: m.status, rec: m)

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
