// A filter storage cannot run (on _value) runs row by row after the scan.
// now: 2020-01-01T01:00:00Z
from(bucket: "b") |> range(start: -2h) |> filter(fn: (r) => r._value > 2.0 and r._measurement == "cpu") |> yield(name: "big")
