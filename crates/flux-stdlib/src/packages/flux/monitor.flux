// influxdata/influxdb/monitor: checks and notifications as InfluxDB's
// monitoring and alerting runs them, recorded in the `_monitoring` bucket
// (statuses by check(), notifications by notify()).
package monitor

import "experimental"
import "influxdata/influxdb"
import "influxdata/influxdb/v1"

bucket = "_monitoring"

levelOK = "ok"
levelInfo = "info"
levelWarn = "warn"
levelCrit = "crit"
levelUnknown = "unknown"

// Where check() sends statuses and notify() its notifications. A program can
// set these options to send them elsewhere.
option write = (tables=<-) => tables |> experimental.to(bucket: bucket)
option log = (tables=<-) => tables |> experimental.to(bucket: bucket)

// The records of one measurement of the monitoring bucket, a column a field.
_recorded = (measurement, start, stop, fn) =>
    influxdb.from(bucket: bucket)
        |> range(start: start, stop: stop)
        |> filter(fn: (r) => r._measurement == measurement)
        |> filter(fn: fn)
        |> v1.fieldsAsCols()

from = (start, stop=now(), fn=(r) => true) => _recorded(measurement: "statuses", start: start, stop: stop, fn: fn)

logs = (start, stop=now(), fn) => _recorded(measurement: "notifications", start: start, stop: stop, fn: fn)

// The first level whose predicate holds for the row, crit first.
_levelOf = (r, crit, warn, info, ok) =>
    if crit(r: r) then
        levelCrit
    else if warn(r: r) then
        levelWarn
    else if info(r: r) then
        levelInfo
    else if ok(r: r) then
        levelOK
    else
        levelUnknown

check = (
    tables=<-,
    data,
    messageFn,
    crit=(r) => false,
    warn=(r) => false,
    info=(r) => false,
    ok=(r) => true,
) =>
    tables
        |> experimental.set(o: data.tags)
        |> experimental.group(mode: "extend", columns: experimental.objectKeys(o: data.tags))
        |> map(
            fn: (r) =>
                ({r with
                    _measurement: "statuses",
                    _source_measurement: r._measurement,
                    _source_timestamp: int(v: r._time),
                    _time: now(),
                    _type: data._type,
                    _check_id: data._check_id,
                    _check_name: data._check_name,
                    _level: _levelOf(r: r, crit: crit, warn: warn, info: info, ok: ok),
                }),
        )
        |> map(fn: (r) => ({r with _message: messageFn(r: r)}))
        |> experimental.group(
            mode: "extend",
            columns: ["_source_measurement", "_type", "_check_id", "_check_name", "_level"],
        )
        |> write()

notify = (tables=<-, endpoint, data) =>
    tables
        |> experimental.set(o: data)
        |> experimental.group(mode: "extend", columns: experimental.objectKeys(o: data))
        |> map(
            fn: (r) => ({r with _measurement: "notifications", _status_timestamp: int(v: r._time), _time: now()}),
        )
        |> endpoint()
        |> experimental.group(mode: "extend", columns: ["_sent"])
        |> log()

deadman = (t, tables=<-) => tables |> max(column: "_time") |> map(fn: (r) => ({r with dead: r._time < t}))

stateChanges = (fromLevel="any", toLevel="any", tables=<-) =>
    tables |> _stateChanges(fromLevel: fromLevel, toLevel: toLevel)

stateChangesOnly = (tables=<-) => tables |> _stateChanges(fromLevel: "any", toLevel: "any")
