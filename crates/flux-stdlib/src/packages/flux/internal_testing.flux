// internal/testing: helpers Flux's own tests use.
package testing

import "array"
import "experimental"
import "regexp"
import "testing"

// The error fn raises has this code and a message matching want.
shouldErrorWithCode = (fn, want, code) => {
    got = experimental.catch(fn)

    return
        if exists got.msg then
            testing.diff(
                got: array.from(rows: [{code: got.code, match: got.msg =~ want}]),
                want: array.from(rows: [{code: code, match: true}]),
            )
        else
            die(msg: "shouldErrorWithCode expected an error")
}

assertMatches = (got, want) =>
    if got =~ want then
        testing.assertEqualValues(got: "", want: "")
    else
        die(msg: "Regex `${regexp.getString(r: want)}` does not match `${got}`")
