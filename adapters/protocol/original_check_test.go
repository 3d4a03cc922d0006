package protocol

import (
	"strings"
	"testing"
)

// TestCheckOriginalConsumer: a consumer creation of driver compiler passes
// only for its own consumer on `messages`, pulled, filtered on its work;
// what passes on is what was checked, each key once.
func TestCheckOriginalConsumer(t *testing.T) {
	for _, c := range []struct {
		what, body string
		refusal    string // "" passes
		passed     string // in what passes on
	}{
		{"the original runtime's", `{"stream_name":"messages","config":{"name":"compiler","deliver_policy":"all","ack_policy":"explicit","replay_policy":"instant","max_ack_pending":1,"num_replicas":0,"filter_subjects":["resources.build","drivers.compiler.resources.build"]},"action":""}`, "", `"filter_subjects":["resources.build","drivers.compiler.resources.build"]`},
		{"durable, one filter", `{"stream_name":"messages","config":{"durable_name":"compiler","filter_subject":"drivers.compiler.resources.build"}}`, "", `"durable_name":"compiler"`},
		{"a repeated key, the last one its work", `{"stream_name":"messages","config":{"name":"compiler","filter_subjects":["events.>"],"filter_subjects":["resources.build"]}}`, "", `"config":{"filter_subjects":["resources.build"],"name":"compiler"}`},
		{"a repeated key, the last one not its work", `{"stream_name":"messages","config":{"name":"compiler","filter_subjects":["resources.build"],"filter_subjects":["events.>"]}}`, "not events.>", ""},
		{"a key in other case", `{"stream_name":"messages","config":{"name":"compiler","filter_subjects":["resources.build"],"Filter_Subjects":["events.>"]}}`, "Filter_Subjects not allowed", ""},
		{"pushed", `{"stream_name":"messages","config":{"name":"compiler","filter_subject":"resources.build","deliver_subject":"conveyor.events.x"}}`, "deliver_subject not allowed", ""},
		{"an unknown key", `{"stream_name":"messages","config":{"name":"compiler","filter_subject":"resources.build"},"extra":1}`, "extra not allowed", ""},
		{"another stream", `{"stream_name":"CONVEYOR_EVENTS","config":{"name":"compiler","filter_subject":"resources.build"}}`, "on stream messages only", ""},
		{"another name", `{"stream_name":"messages","config":{"name":"compiler","durable_name":"uploader","filter_subject":"resources.build"}}`, "not uploader", ""},
		{"no name", `{"stream_name":"messages","config":{"filter_subject":"resources.build"}}`, "must be named compiler", ""},
		{"another driver's work", `{"stream_name":"messages","config":{"name":"compiler","filter_subject":"drivers.uploader.resources.build"}}`, "not drivers.uploader.resources.build", ""},
		{"a wildcard", `{"stream_name":"messages","config":{"name":"compiler","filter_subject":"resources.*"}}`, "not resources.*", ""},
		{"no filter", `{"stream_name":"messages","config":{"name":"compiler"}}`, "must filter on its work", ""},
		{"not JSON", `nope`, "not a JSON object", ""},
	} {
		checked, err := checkOriginalConsumer("compiler", []byte(c.body))
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%s: refused: %v", c.what, err)
		case c.refusal == "" && !strings.Contains(string(checked), c.passed):
			t.Errorf("%s: passed on %s, want it to hold %s", c.what, checked, c.passed)
		case c.refusal != "" && (err == nil || !strings.Contains(err.Error(), c.refusal)):
			t.Errorf("%s: %v, want a refusal saying %q", c.what, err, c.refusal)
		}
	}
}
