// now: 2020-01-01T00:00:00Z
import "array"
import "join"
l = array.from(rows: [{k: 1, v: "a"}])
r = array.from(rows: [{k: 1, w: "b"}, {k: 2, w: "c"}])
join.tables(left: l, right: r, on: (l, r) => l.k == r.k, as: (l, r) => l, method: "outer")
