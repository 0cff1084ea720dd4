// influxdata/influxdb: from, to, wideTo and buckets are native (the first
// three also in the prelude); cardinality counts the series with points in
// a time range.
package influxdb

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

    return
        data
            |> range(start: start, stop: stop)
            |> filter(fn: predicate)
            |> count()
            |> group(columns: ["_start", "_stop"])
            |> count()
}
