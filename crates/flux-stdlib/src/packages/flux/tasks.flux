// influxdata/influxdb/tasks: when the running task last succeeded.
package tasks

// The task's last success, set by the scheduler for each run; none outside tasks.
option lastSuccessTime = _lastSuccessTime

lastSuccess = (orTime) => _lastSuccess(orTime: orTime, lastSuccessTime: lastSuccessTime)
