// profiler: which profilers a query runs with. The runner reads the option
// after the program is evaluated and adds each profiler's table to the
// answer, in the result `_profiler` (`query` and `operator`).
package profiler

option enabledProfilers = [""]
