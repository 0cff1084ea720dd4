// mem has host=a; a series without `host` would be kept by storage's "" != "x";
// Flux drops it (null comparison), so the filter runs row by row.
// now: 2020-01-01T01:00:00Z
from(bucket: "b") |> range(start: -2h) |> filter(fn: (r) => r.host != "a")
