// now: 2020-01-01T00:00:00Z
// The query ends with the space after the colon: the error is at the end of input.
from(bucket: 
