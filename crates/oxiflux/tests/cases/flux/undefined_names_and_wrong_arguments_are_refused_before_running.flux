// Nothing is written by a query that does not check: to() never runs.
from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z) |> to(bucket: "metrics") |> limit(n: "1")
x = y
