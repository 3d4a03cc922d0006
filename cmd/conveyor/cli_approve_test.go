package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// TestCLIApprovalsAndDrivers: through the binary, a pipeline naming a
// driver never seen is applied with a warning; `drivers` lists the
// connected driver; `run` shows what each step needs and the approval
// waiting; `approve` lets the run go on to its end.
func TestCLIApprovalsAndDrivers(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true, Message: "compiled"}
	})
	const docs = `kind: ResourceDefinition
name: build
schema: {type: object}
---
kind: Pipeline
name: ci
resource: build
steps:
  - {id: compile, driver: compiler}
  - {id: gate, type: approval}
---
kind: Pipeline
name: typo
resource: build
steps:
  - {id: compile, driver: compilr}
`
	code, out, errOut := cliRun(t, server, docs, "apply", "-f", "-")
	if code != 0 || !strings.Contains(errOut, `warning: pipeline/typo: step compile: driver "compilr" has never connected`) ||
		strings.Contains(errOut, "pipeline/ci:") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	waitDriver(t, s, "compiler", func(d map[string]any) bool { return d["connected"] == true })
	code, out, errOut = cliRun(t, server, "", "drivers")
	if code != 0 || !regexp.MustCompile(`(?m)^compiler +true +1 +build +- +0 +0 *$`).MatchString(out) {
		t.Errorf("drivers: exit %d\n%s%s", code, out, errOut)
	}

	runID := s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "app", "resource": "build", "pipeline": "ci", "spec": map[string]any{}})["runid"].(string)
	s.waitStep(runID, "gate", "waiting")
	code, out, _ = cliRun(t, server, "", "run", runID)
	if code != 0 || !regexp.MustCompile(`(?m)^└ gate +compile +\(approval\) +waiting +1 +waits for approval *$`).MatchString(out) {
		t.Errorf("run while the approval waits:\n%s", out)
	}
	code, out, errOut = cliRun(t, server, "", "approve", runID, "gate", "-m", "ship it")
	if code != 0 || out != "run "+runID+": step gate approved; the run is succeeded\n" {
		t.Errorf("approve: exit %d, stdout %q\n%s", code, out, errOut)
	}
	if code, _, errOut = cliRun(t, server, "", "reject", runID, "gate"); code != 1 || !strings.Contains(errOut, "has already ended (succeeded)") {
		t.Errorf("reject after the run ended: exit %d\n%s", code, errOut)
	}
}
