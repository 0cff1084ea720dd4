// experimental: most members are native; these are written in Flux.
package experimental

import j "join"

// Each table moved so that its first row is at alignTo, its rows as far
// apart as they were.
alignTime = (tables=<-, alignTo=time(v: 0)) =>
    tables
        |> stateDuration(fn: (r) => true, column: "__timeDiff", unit: 1ns)
        |> map(fn: (r) => ({r with _time: time(v: int(v: alignTo) + r.__timeDiff)}))
        |> drop(columns: ["__timeDiff"])

// Rows of tables with the same group key and the same _time, combined by fn.
join = (left, right, fn) => j.time(left: left, right: right, as: (l, r) => fn(left: l, right: r))
