package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/logmask"
)

const (
	nestedSecret = "hunter2-registry-password"
	pinSecret    = "48151623" // a secret of digits, written as a JSON number
)

// runsMasking is the server's masker, every run granted nestedSecret and
// pinSecret.
func runsMasking() *logmask.Runs {
	return logmask.NewRuns(func(context.Context, string) ([]string, error) {
		return []string{nestedSecret, pinSecret}, nil
	}, logmask.RunsConfig{})
}

// Every string of a line is masked, however deep: in objects of any
// field, in arrays, as a key, escaped; so is a number that holds a
// secret. The rest of the line keeps its shape and its text.
func TestMaskLineMasksEveryStringAtAnyDepth(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, 200) + `"` + nestedSecret + `"` + strings.Repeat(`]}`, 200)
	tests := []struct {
		name, line, want string
	}{
		{"in an object of another field",
			`{"message":"x","extra":{"token":"hunter2-registry-password","n":{"deep":["a","hunter2-registry-password"]}}}`,
			`{"extra":{"token":"***","n":{"deep":["a","***"]}},"message":"x"}`},
		{"in an array",
			`{"message":"x","list":["hunter2-registry-password", 1, true, null, {"k": "HUNTER2-REGISTRY-PASSWORD"}]}`,
			`{"list":["***", 1, true, null, {"k": "***"}],"message":"x"}`},
		{"as a key, nested and of the line",
			`{"hunter2-registry-password":"v","extra":{"hunter2-registry-password":"v"},"labels":{"hunter2-registry-password":"v"}}`,
			`{"extra":{"***":"v"},"***":"v","labels":{"***":"v"}}`}, // in the order of the names as sent
		{"escaped",
			`{"extra":["hunter2-registry-\u0070assword \"quoted\""]}`,
			`{"extra":["*** \"quoted\""]}`},
		{"a number, at the top and nested; short numbers untouched",
			`{"timestamp":48151623,"extra":{"pin":48151623,"n":[1,-2.5e3,481516230]},"attempt":1}`,
			`{"attempt":1,"extra":{"pin":"***","n":[1,-2.5e3,"***0"]},"timestamp":"***"}`},
		{"labels that are not all strings",
			`{"labels":{"k":["hunter2-registry-password"],"n":2}}`,
			`{"labels":{"k":["***"],"n":2}}`},
		{"200 levels deep",
			`{"extra":` + deep + `}`,
			`{"extra":` + strings.Replace(deep, nestedSecret, "***", 1) + `}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := maskLine(context.Background(), runsMasking(), fmt.Sprint("r", i), []byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("masked\n%s\ninto\n%s\nwant\n%s", tt.line, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

// A line nested deeper than encoding/json decodes is masked as text, as a
// whole; one just within is walked, with no stack for its depth. Neither
// is stored with a secret, nor changed beyond its secrets.
func TestMaskLineMasksALineOfAnyDepth(t *testing.T) {
	for depth, number := range map[int]string{9_000: `"***"`, 100_000: `***`} { // text has no strings
		line := `{"message":"x","extra":` + strings.Repeat("[", depth) + `"` + nestedSecret + `",48151623` + strings.Repeat("]", depth) + `}`
		got, err := maskLine(context.Background(), runsMasking(), fmt.Sprint("r", depth), []byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), nestedSecret) || strings.Contains(string(got), pinSecret) || strings.Count(string(got), "***") != 2 {
			t.Errorf("a line %d deep was stored as %.100s…", depth, got)
		}
		if want := len(line) - len(nestedSecret) - len(pinSecret) + len("***") + len(number); len(got) != want {
			t.Errorf("a line %d deep: %d bytes stored, want %d", depth, len(got), want)
		}
	}
}

// A value cut between two lines of one writer is masked in a nested field
// too: the field's strings carry their end to the same field of the
// writer's next line, whatever keys stand between them.
func TestMaskLineCarriesANestedValueCutBetweenLines(t *testing.T) {
	runs := runsMasking()
	cut := (len(nestedSecret) + 1) / 2
	var stored []string
	for _, out := range []string{"token: " + nestedSecret[:cut], nestedSecret[cut:] + " (end)"} {
		line, _ := json.Marshal(map[string]any{"driver": "pusher", "step": "push", "attempt": 1, "message": "x",
			"extra": map[string]any{"output": []string{out}}})
		got, err := maskLine(context.Background(), runs, "r1", line)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, string(got))
	}
	for _, part := range []string{nestedSecret[:cut], nestedSecret[cut:]} {
		if joined := strings.Join(stored, "\n"); strings.Contains(joined, part) {
			t.Errorf("%q stored:\n%s", part, joined)
		}
	}
}

// Through NATS: a driver's line with secrets in nested fields is stored
// with none of them.
func TestNestedSecretsAreNotStored(t *testing.T) {
	nc, js := logStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	storeLogs(t, nc, runsMasking())
	line := `{"runid":"r1","driver":"pusher","message":"x","extra":{"token":"` + nestedSecret + `"},"list":["` + nestedSecret + `"],"labels":{"k":{"v":"` + nestedSecret + `"}}}`
	ack, err := js.Publish(ctx, "logs.r1", []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, LogsStream)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := stream.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"driver":"pusher","extra":{"token":"***"},"labels":{"k":{"v":"***"}},"list":["***"],"message":"x","runid":"r1"}`
	if string(stored.Data) != want {
		t.Errorf("stored %s\nwant %s", stored.Data, want)
	}
}
