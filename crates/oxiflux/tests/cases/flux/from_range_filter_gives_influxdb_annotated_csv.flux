// now: 2020-01-01T01:00:00Z
from(bucket: "b") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")
