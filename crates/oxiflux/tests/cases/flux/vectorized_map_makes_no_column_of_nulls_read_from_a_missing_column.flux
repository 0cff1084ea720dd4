// now: 2020-01-01T00:00:00Z
import "array"
array.from(rows: [{a: true}, {a: false}])
    |> map(fn: (r) => ({r with never: not r.never, x: r.missing or true, y: r.missing and true}))
