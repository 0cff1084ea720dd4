// contrib/bonitoo-io/victorops: alerts to a VictorOps (Splunk On-Call)
// REST endpoint.
package victorops

import "http"
import "json"

// Posts one alert; its start time in whole seconds. Answers the HTTP status.
alert = (
    url,
    messageType,
    entityID="",
    entityDisplayName="",
    stateMessage="",
    timestamp=now(),
    monitoringTool="InfluxDB",
) =>
    http.post(
        url: url,
        headers: {"Content-Type": "application/json"},
        data:
            json.encode(
                v: {
                    message_type: messageType,
                    entity_id: entityID,
                    entity_display_name: entityDisplayName,
                    state_message: stateMessage,
                    state_start_time: uint(v: timestamp) / uint(v: 1000000000),
                    monitoring_tool: monitoringTool,
                },
            ),
    )

// An endpoint for monitor.notify: mapFn gives each row's messageType,
// entityID, entityDisplayName, stateMessage and timestamp.
endpoint = (url, monitoringTool="InfluxDB") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            alert(
                                url: url,
                                messageType: m.messageType,
                                entityID: m.entityID,
                                entityDisplayName: m.entityDisplayName,
                                stateMessage: m.stateMessage,
                                timestamp: m.timestamp,
                                monitoringTool: monitoringTool,
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
