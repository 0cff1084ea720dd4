// http: post, basicAuth and pathEscape are native; endpoint posts one
// request per row and says which were sent.
package http

import "experimental"

endpoint = (url) =>
    (mapFn) =>
        (tables=<-) =>
            tables
                |> map(
                    fn: (r) => {
                        obj = mapFn(r: r)
                        status = post(url: url, headers: obj.headers, data: obj.data)

                        return {r with _status: string(v: status), _sent: string(v: 200 == status)}
                    },
                )
                |> experimental.group(mode: "extend", columns: ["_sent"])
