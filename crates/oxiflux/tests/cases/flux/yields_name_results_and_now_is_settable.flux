// now: 2020-01-01T00:30:00Z
// dialect: {}
from(bucket: "metrics") |> range(start: -1h) |> filter(fn: (r) => r._field == "free") |> yield(name: "mem")
