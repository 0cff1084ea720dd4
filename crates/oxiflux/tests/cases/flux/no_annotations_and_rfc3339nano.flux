// now: 2020-01-01T00:00:00Z
// dialect: {"annotations": [], "dateTimeFormat": "RFC3339Nano"}
from(bucket: "b") |> range(start: 2019-12-31T23:59:59.5Z, stop: 2020-01-01T01:00:00Z) |> filter(fn: (r) => r._measurement == "mem")
