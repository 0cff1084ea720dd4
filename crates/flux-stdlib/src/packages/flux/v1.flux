// influxdata/influxdb/v1: the schema functions under their 1.x-era names
// (the same as influxdata/influxdb/schema's).
package v1

import "influxdata/influxdb/schema"

fieldsAsCols = schema.fieldsAsCols
tagValues = schema.tagValues
tagKeys = schema.tagKeys
measurementTagValues = schema.measurementTagValues
measurementTagKeys = schema.measurementTagKeys
fieldKeys = schema.fieldKeys
measurementFieldKeys = schema.measurementFieldKeys
measurements = schema.measurements
