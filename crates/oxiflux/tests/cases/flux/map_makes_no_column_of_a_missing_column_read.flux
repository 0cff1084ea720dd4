// A row-by-row map (the user function call keeps it off the vectorized path)
// reading a column no row has: Flux gives that property no column.
// now: 2020-01-01T00:00:00Z
import "array"
id = (v) => v
array.from(rows: [{_time: 2020-01-01T00:00:00Z, _value: 1}, {_time: 2020-01-01T00:00:10Z, _value: 2}])
    |> map(fn: (r) => ({_time: r._time, _value: id(v: r._value), key: r.key}))
