// influxdata/influxdb/schema: what a bucket holds — measurements, tag keys
// and values, field keys — read through from() over a time range (the last
// 30 days by default), and fieldsAsCols to put fields side by side.
package schema

// Where the schema is read from; a program may set it (option schema._from).
option _from = from

_startDefault = -30d
_stopDefault = now()

fieldsAsCols = (tables=<-) => tables |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")

tagValues = (bucket, tag, predicate=(r) => true, start=_startDefault, stop=_stopDefault) =>
    _from(bucket: bucket)
        |> range(start: start, stop: stop)
        |> filter(fn: predicate)
        |> keep(columns: [tag])
        |> group()
        |> distinct(column: tag)

tagKeys = (bucket, predicate=(r) => true, start=_startDefault, stop=_stopDefault) =>
    _from(bucket: bucket)
        |> range(start: start, stop: stop)
        |> filter(fn: predicate)
        |> keys()
        |> keep(columns: ["_value"])
        |> distinct()

measurementTagValues = (bucket, measurement, tag, start=_startDefault, stop=_stopDefault) =>
    tagValues(bucket: bucket, tag: tag, predicate: (r) => r._measurement == measurement, start: start, stop: stop)

measurementTagKeys = (bucket, measurement, start=_startDefault, stop=_stopDefault) =>
    tagKeys(bucket: bucket, predicate: (r) => r._measurement == measurement, start: start, stop: stop)

fieldKeys = (bucket, predicate=(r) => true, start=_startDefault, stop=_stopDefault) =>
    tagValues(bucket: bucket, tag: "_field", predicate: predicate, start: start, stop: stop)

measurementFieldKeys = (bucket, measurement, start=_startDefault, stop=_stopDefault) =>
    fieldKeys(bucket: bucket, predicate: (r) => r._measurement == measurement, start: start, stop: stop)

measurements = (bucket, start=_startDefault, stop=_stopDefault) =>
    tagValues(bucket: bucket, tag: "_measurement", start: start, stop: stop)
