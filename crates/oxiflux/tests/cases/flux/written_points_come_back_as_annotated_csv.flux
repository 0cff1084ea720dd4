from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z) |> filter(fn: (r) => r._measurement == "cpu")
