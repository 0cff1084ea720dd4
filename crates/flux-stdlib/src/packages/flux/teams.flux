// contrib/sranka/teams: message cards to a Microsoft Teams incoming webhook.
package teams

import "http"
import "json"
import "strings"

// Summaries longer than this are cut, with "..." after.
option summaryCutoff = 70

// Posts one card; the summary is the text unless given. Answers the HTTP status.
message = (url, title, text, summary="") => {
    full = if summary == "" then text else summary
    short =
        if strings.strlen(v: full) > summaryCutoff then
            "${strings.substring(v: full, start: 0, end: summaryCutoff)}..."
        else
            full
    quoted = (v) => string(v: json.encode(v: v))
    card =
        "{
\"@type\": \"MessageCard\",
\"@context\": \"http://schema.org/extensions\",
\"title\": ${quoted(v: title)},
\"text\": ${quoted(v: text)},
\"summary\": ${quoted(v: short)}
}"

    return http.post(url: url, headers: {"Content-Type": "application/json; charset=utf-8"}, data: bytes(v: card))
}

// An endpoint for monitor.notify: mapFn gives each row's title, text and
// (if it has one) summary.
endpoint = (url) =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        summary = if exists m.summary then m.summary else ""
                        status = message(url: url, title: m.title, text: m.text, summary: summary)

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
