// now: 2020-01-01T00:00:00Z
from(bucket: "b") |> filter(fn: (r) => true)
