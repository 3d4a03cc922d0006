// Package eventjson decodes the events of the log about twice as fast as
// encoding/json, with half its allocations: it reads them with the JSON
// package that is becoming encoding/json/v2 (github.com/go-json-experiment/json),
// set to take what encoding/json takes (duplicate names, invalid UTF-8). The
// log is written by encoding/json alone, so field names match exactly. A test
// decodes every kind of event both ways and compares.
package eventjson
