package main

import (
	"regexp"
	"strings"
	"testing"
)

// failingBuild has a definition loose enough to let through a spec the
// compiler cannot read, so the run fails at compile and upload never runs;
// and a pipeline whose driver never connects, so its run waits to be
// cancelled.
const failingBuild = `kind: ResourceDefinition
name: build
schema: {type: object}
---
kind: Pipeline
name: ci
resource: build
steps: [{id: compile, driver: compiler}, {id: upload, driver: uploader}]
---
kind: Pipeline
name: stuck
resource: build
steps: [{id: a, driver: absent}]
`

var runIDPattern = regexp.MustCompile(`run ([0-9a-f-]{36})`)

// TestCLICancelRetry: cancel and retry act on a run, say what became of it,
// and exit 1 when the server refuses.
func TestCLICancelRetry(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	code, url, errOut := cliRun(t, server, "", "drivers", "credentials", "compiler")
	if code != 0 {
		t.Fatalf("drivers credentials: exit %d\n%s", code, errOut)
	}
	startDriverWith(t, "compiler", strings.TrimSpace(url))
	if code, out, errOut := cliRun(t, server, failingBuild, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := cliRun(t, server, "kind: Resource\nname: app-x\nresource: build\npipeline: stuck\nspec: {}\n", "apply", "-f", "-")
	stuck := runIDPattern.FindStringSubmatch(out)
	if code != 0 || stuck == nil {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = cliRun(t, server, "", "cancel", stuck[1])
	if want := "run " + stuck[1] + ": cancelled\n"; code != 0 || out != want {
		t.Errorf("cancel: exit %d, stdout %q, want %q\n%s", code, out, want, errOut)
	}
	code, _, errOut = cliRun(t, server, "", "cancel", stuck[1])
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("cancel of a cancelled run: exit %d, want 1 and one line\n%s", code, errOut)
	}
	if code, _, errOut = cliRun(t, server, "", "retry", stuck[1]); code != 1 {
		t.Errorf("retry of a cancelled run: exit %d, want 1\n%s", code, errOut)
	}

	code, out, errOut = cliRun(t, server, "kind: Resource\nname: app-y\nresource: build\npipeline: ci\nspec: {repo: 1}\n", "apply", "-f", "-", "--wait", "--timeout", "30s")
	failed := runIDPattern.FindStringSubmatch(out)
	if code != 1 || failed == nil || !strings.Contains(out, "failed") {
		t.Fatalf("apply --wait of a failing run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cliRun(t, server, "", "run", failed[1])
	if !regexp.MustCompile(`(?m)^└ upload +compile +uploader +skipped `).MatchString(out) {
		t.Errorf("run of a failed run: the step after the failed one is not skipped\n%s", out)
	}
	code, out, errOut = cliRun(t, server, "", "retry", failed[1])
	if want := "run " + failed[1] + ": retried, now running\n"; code != 0 || out != want {
		t.Errorf("retry: exit %d, stdout %q, want %q\n%s", code, out, want, errOut)
	}
	if code, _, errOut = cliRun(t, server, "", "retry", "00000000-0000-0000-0000-000000000000"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("retry of an unknown run: exit %d\n%s", code, errOut)
	}
}
