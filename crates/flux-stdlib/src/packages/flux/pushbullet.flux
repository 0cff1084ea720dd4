// pushbullet: pushes through the Pushbullet API.
package pushbullet

import "http"
import "json"

option defaultURL = "https://api.pushbullet.com/v2/pushes"

// Posts any push `data`; answers the HTTP status.
pushData = (url=defaultURL, token="", data) =>
    http.post(url: url, headers: {"Access-Token": token, "Content-Type": "application/json"}, data: json.encode(v: data))

// Pushes a note.
pushNote = (url=defaultURL, token="", title, text) =>
    pushData(url: url, token: token, data: {type: "note", title: title, body: text})

// An endpoint for monitor.notify: mapFn gives each row's title and text.
endpoint = (url=defaultURL, token="") =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status = pushNote(url: url, token: token, title: m.title, text: m.text)

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
