// contrib/chobbs/discord: messages to a Discord webhook.
package discord

import "http"
import "json"

option discordURL = "https://discordapp.com/api/webhooks/"

// Posts one message as `username`; answers the HTTP status.
send = (webhookToken, webhookID, username, content, avatar_url="") =>
    http.post(
        url: discordURL + webhookID + "/" + webhookToken,
        headers: {"Content-Type": "application/json"},
        data: json.encode(v: {username: username, content: content, avatar_url: avatar_url}),
    )

// An endpoint for monitor.notify: mapFn gives each row's content.
endpoint = (webhookToken, webhookID, username, avatar_url="") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            send(
                                webhookToken: webhookToken,
                                webhookID: webhookID,
                                username: username,
                                avatar_url: avatar_url,
                                content: m.content,
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
