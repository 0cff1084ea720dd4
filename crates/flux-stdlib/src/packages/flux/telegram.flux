// contrib/sranka/telegram: messages to a Telegram chat through a bot.
package telegram

import "http"
import "json"

option defaultURL = "https://api.telegram.org/bot"
option defaultParseMode = "MarkdownV2"
option defaultDisableWebPagePreview = false
option defaultSilent = true

// Sends one message with the bot's token; answers the HTTP status.
message = (
    url=defaultURL,
    token,
    channel,
    text,
    parseMode=defaultParseMode,
    disableWebPagePreview=defaultDisableWebPagePreview,
    silent=defaultSilent,
) => {
    body =
        json.encode(
            v: {
                chat_id: channel,
                text: text,
                parse_mode: parseMode,
                disable_web_page_preview: disableWebPagePreview,
                disable_notification: silent,
            },
        )

    return
        http.post(
            url: url + token + "/sendMessage",
            headers: {"Content-Type": "application/json; charset=utf-8"},
            data: body,
        )
}

// An endpoint for monitor.notify: mapFn gives each row's channel, text and silent.
endpoint = (url=defaultURL, token, parseMode=defaultParseMode, disableWebPagePreview=defaultDisableWebPagePreview) =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        m = mapFn(r: r)
                        status =
                            message(
                                url: url,
                                token: token,
                                channel: m.channel,
                                text: m.text,
                                parseMode: parseMode,
                                disableWebPagePreview: disableWebPagePreview,
                                silent: m.silent,
                            )

                        return {r with _status: string(v: status), _sent: string(v: 2 == status / 100)}
                    },
                )
