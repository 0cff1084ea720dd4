// internal/promql: what PromQL translated to Flux calls. The functions on
// tables are natives (promql.rs); these two are Flux.
package promql

import "experimental"
import "math"
import "universe"

// PromQL's quantile: universe's quantile for q in [0, 1]; beyond it each
// table gives one row of -Inf (q < 0) or +Inf (q > 1).
quantile = (q, tables=<-, method="exact_mean") =>
    if q >= 0.0 and q <= 1.0 then
        tables |> universe.quantile(q: q, method: method)
    else
        tables
            |> reduce(
                identity: {_value: math.mInf(sign: if q < 0.0 then -1 else 1)},
                fn: (r, accumulator) => accumulator,
            )

join = experimental.join
