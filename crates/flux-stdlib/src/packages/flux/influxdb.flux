// influxdata/influxdb: from, to, wideTo and buckets are native (the first
// three also in the prelude); cardinality counts the series with points in
// a time range. As 2.7's storage answers it, that is one table with an empty
// group key and one `_value` row, 0 when nothing matches.
package influxdb

import "array"

cardinality = (
    bucket="",
    bucketID="",
    org="",
    orgID="",
    host="",
    token="",
    start,
    stop=now(),
    predicate=(r) => true,
) => {
    data =
        if bucket != "" then
            from(bucket: bucket, org: org, orgID: orgID, host: host, token: token)
        else
            from(bucketID: bucketID, org: org, orgID: orgID, host: host, token: token)
    series =
        data
            |> range(start: start, stop: stop)
            |> filter(fn: predicate)
            |> count()
            |> group()
            |> count()
            |> keep(columns: ["_value"])

    return union(tables: [series, array.from(rows: [{_value: 0}])]) |> sum()
}
