// slack: messages to Slack, through its chat.postMessage API or an incoming
// webhook, with one colored attachment. validateColorString is native.
package slack

import "http"
import "json"

option defaultURL = "https://slack.com/api/chat.postMessage"

// Posts one message; answers the HTTP status.
message = (url=defaultURL, token="", channel, text, color) => {
    attachment = {color: validateColorString(color: color), text: string(v: text), mrkdwn_in: ["text"]}
    body = json.encode(v: {channel: channel, attachments: [attachment]})
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    return http.post(url: url, headers: headers, data: body)
}

// An endpoint for monitor.notify: mapFn gives each row's channel, text and color.
endpoint = (url=defaultURL, token="") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status = message(url: url, token: token, channel: m.channel, text: m.text, color: m.color)

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
