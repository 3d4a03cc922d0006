package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseResult(t *testing.T) {
	const run = "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11"
	ok := `{"event":"driver.result","run_id":"` + run + `","resource":{},"driverresult":{"success":true,"message":"m","data":{"k":1},"driver":"d"}}`
	r, err := parseResult([]byte(ok))
	if err != nil || r.RunID != run || !r.Result.Success || r.Result.Driver != "d" || string(r.Result.Data) != `{"k":1}` || r.Step != "" {
		t.Fatalf("a result of the original runtime: %+v %v", r, err)
	}
	for name, bad := range map[string]string{
		"malformed":       `{"run_id":`,
		"no driverresult": `{"run_id":"` + run + `"}`,
		"not a run id":    `{"run_id":"../x","driverresult":{}}`,
		"bad step":        `{"run_id":"` + run + `","step":"A.B","driverresult":{}}`,
		"wrong types":     `{"run_id":5,"driverresult":"yes"}`,
	} {
		if _, err := parseResult([]byte(bad)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// FuzzParseResult: whatever arrives on pipelines.driver.result, the intake
// neither panics nor lets through a run id or step that is not valid.
func FuzzParseResult(f *testing.F) {
	f.Add(`{"event":"driver.result","run_id":"6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11","driverresult":{"success":true,"driver":"d"}}`)
	f.Add(`{"run_id":"6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11","step":"s","driverresult":{"data":[1,2,3]}}`)
	f.Add(`{"run_id":"x"}`)
	f.Add(`[]`)
	f.Add(`{"driverresult":{"message":"` + strings.Repeat("a", 10000) + `"}}`)
	f.Fuzz(func(t *testing.T, data string) {
		r, err := parseResult([]byte(data))
		if err != nil {
			return
		}
		if len(r.RunID) != 36 || (r.Step != "" && strings.ContainsAny(r.Step, ".*> ")) {
			t.Fatalf("accepted %q as run %q step %q", data, r.RunID, r.Step)
		}
		if r.Result.Data != nil && !json.Valid(r.Result.Data) {
			t.Fatalf("data %q is not JSON", r.Result.Data)
		}
	})
}

func TestSenderOf(t *testing.T) {
	for _, c := range []struct {
		subject string
		require bool
		want    string
		refused bool
	}{
		{"pipelines.driver.result", false, "", false},
		{"pipelines.driver.result", true, "", true},
		{"pipelines.driver.result.compiler", true, "compiler", false},
		{"pipelines.driver.result.compiler", false, "compiler", false},
		{"pipelines.driver.result.Bad_", true, "", true},
		{"pipelines.other", false, "", true},
	} {
		got, err := senderOf(c.subject, c.require)
		if got != c.want || (err != nil) != c.refused {
			t.Errorf("senderOf(%q, %v) = %q, %v", c.subject, c.require, got, err)
		}
	}
}
