// now: 2020-01-01T00:00:00Z
from(bucket: "nope") |> range(start: -1h)
