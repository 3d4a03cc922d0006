package execdriver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParamsAreCheckedBeforeAnythingRuns(t *testing.T) {
	for _, tc := range []struct {
		with string
		want string // in the error; "" for none
	}{
		{`{"run": "echo hi"}`, ""},
		{`{"run": "make", "shell": "bash -eo pipefail", "workdir": "src/app", "env": {"GOFLAGS": "-mod=mod", "N": 3}}`, ""},
		{``, "with.run is required"},
		{`{"shell": "bash"}`, "with.run is required"},
		{`{"run": "x", "scirpt": "y"}`, `unknown field "scirpt"`},
		{`{"run": "x", "workdir": "../elsewhere"}`, "inside the workspace"},
		{`{"run": "x", "workdir": "a/../../b"}`, "inside the workspace"},
		{`{"run": "x", "workdir": "/etc"}`, "inside the workspace"},
		{`{"run": "x", "image": "golang:1.26"}`, ""},
		{`{"run": "x", "image": "registry.example.com:5000/team/app@sha256:0123abcd"}`, ""},
		{`{"run": "x", "image": ""}`, "not an image reference"},
		{`{"run": "x", "image": "-v/:/host"}`, "not starting with -"},
		{`{"run": "x", "image": "alpine --privileged"}`, `' ' is not allowed`},
		{`{"run": "x", "image": "alpine\nrm"}`, `'\n' is not allowed`},
		{`{"run": "x", "image": "alpine;id"}`, `';' is not allowed`},
		{`{"run": "x", "image": "` + strings.Repeat("a", 257) + `"}`, "1 to 256 characters"},
		{`{"run": "x", "image": 3}`, "cannot unmarshal number"},
		{`{"run": "x", "shell": "  "}`, "with.shell is blank"},
		{`{"run": "x", "env": {"CONVEYOR_OUTPUT": "/tmp/x"}}`, "set by the driver"},
		{`{"run": "x", "env": {"SECRET_TOKEN": "x"}}`, "set by the driver"},
		{`{"run": "x", "env": {"A=B": "x"}}`, "not a variable name"},
	} {
		_, err := parseParams(json.RawMessage(tc.with))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.with, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one with %q", tc.with, err, tc.want)
		}
	}
}

func TestParamsMakeTheCommandAndEnvironment(t *testing.T) {
	p, err := parseParams(json.RawMessage(`{"run": "echo hi", "env": {"B": "two words", "A": 1.50, "C": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"sh", "-e", "-c", "echo hi"}, p.command()); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A=1.50", "B=two words", "C=true"}, p.env()); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	p.Shell = "bash --noprofile -eo pipefail"
	if diff := cmp.Diff([]string{"bash", "--noprofile", "-eo", "pipefail", "-c", "echo hi"}, p.command()); diff != "" {
		t.Errorf("command of a shell (-want +got):\n%s", diff)
	}
}

func TestOutputFile(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]string
		err  string
	}{
		{"name=world\n\nempty=\nurl=https://x/?a=b\n", map[string]string{"name": "world", "empty": "", "url": "https://x/?a=b"}, ""},
		{"name=first\nname=second\n", map[string]string{"name": "second"}, ""},
		{"notes<<EOF\nline 1\nline=2\nEOF\nafter=yes\r\n", map[string]string{"notes": "line 1\nline=2", "after": "yes"}, ""},
		{"a-b_C9=1", map[string]string{"a-b_C9": "1"}, ""},
		{"just words\n", nil, "line 1 is neither"},
		{"=value\n", nil, "line 1 is neither"},
		{"x=1\nnotes<<EOF\nnever ends\n", nil, "line 2: notes<<EOF never ends"},
		{"notes<<\n", nil, "names no delimiter"},
		{"the key=1\n", nil, `key "the key"`},
		{"exitCode=0\n", nil, "the driver's own key"},
	} {
		got, err := parseOutput([]byte(tc.file))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.file, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.file, err)
		} else if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.file, diff)
		}
	}
}

func TestTailKeepsTheLastLinesCut(t *testing.T) {
	tl := newTail(3)
	_, _ = tl.Write([]byte("one\ntwo\nthr"))
	_, _ = tl.Write([]byte("ee\nfour\r\n" + strings.Repeat("x", 1000) + "\nfive"))
	want := []string{"four", strings.Repeat("x", maxLine), "five"}
	if diff := cmp.Diff(want, tl.Lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
