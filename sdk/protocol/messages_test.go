package protocol_test

import (
	"encoding/json"
	"testing"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// A log line's timestamp is read as text whether a runtime sends a string
// or a number, and is written back as a string.
func TestTimestampReadsAStringOrANumber(t *testing.T) {
	for in, want := range map[string]protocol.Timestamp{
		`{"timestamp":"1795510841"}`: "1795510841",
		`{"timestamp":1795510841}`:   "1795510841",
		`{"timestamp":null}`:         "",
		`{}`:                         "",
	} {
		var line protocol.LogLine
		if err := json.Unmarshal([]byte(in), &line); err != nil || line.Timestamp != want {
			t.Errorf("%s: %q, %v; want %q", in, line.Timestamp, err, want)
		}
	}
	var line protocol.LogLine
	if err := json.Unmarshal([]byte(`{"timestamp":true}`), &line); err == nil {
		t.Errorf("a timestamp that is a boolean was read as %q", line.Timestamp)
	}
	out, _ := json.Marshal(protocol.LogLine{Timestamp: "1795510841", Labels: map[string]string{}})
	if want := `{"runid":"","driver":"","pipeline":"","timestamp":"1795510841","message":"","labels":{}}`; string(out) != want {
		t.Errorf("written as %s, want %s", out, want)
	}
}

// A result without driverresult is told apart from one with an empty one.
func TestAResultWithoutDriverResultIsToldApart(t *testing.T) {
	var r protocol.Result
	if err := json.Unmarshal([]byte(`{"event":"driver.result","run_id":"x"}`), &r); err != nil || r.DriverResult != nil {
		t.Errorf("no driverresult: %+v, %v", r.DriverResult, err)
	}
	if err := json.Unmarshal([]byte(`{"driverresult":{}}`), &r); err != nil || r.DriverResult == nil {
		t.Errorf("an empty driverresult read as none: %v", err)
	}
}
