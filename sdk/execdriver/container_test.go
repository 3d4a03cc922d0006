package execdriver

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/sdk"
	"github.com/google/go-cmp/cmp"
)

// TestContainerCommandLine: a step with an image runs `ENGINE run` with
// the workspace mounted, the workdir in it, the shell as entrypoint and
// the variables by name; no value of a variable, least of all a secret's,
// is on the command line.
func TestContainerCommandLine(t *testing.T) {
	p, err := parseParams(json.RawMessage(`{"run": "make test", "image": "golang:1.25", "shell": "bash -eo pipefail",
		"workdir": "src/app", "env": {"GOFLAGS": "-mod=mod"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req := sdk.Request{RunID: "01JRUN", Step: "build step", Attempt: 2, Resource: sdk.Resource{Type: "source", Name: "api"},
		Secrets: map[string]string{"registry-password": "hunter2", "api": "s3cret"}}
	ctr, vars, err := newContainer(req, p, "/var/ws/01JRUN", "/var/ws/01JRUN/.conveyor-output-123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ctr.name, "conveyor-01JRUN-build-step-2-") || len(ctr.name) != len("conveyor-01JRUN-build-step-2-")+8 {
		t.Errorf("name %q", ctr.name)
	}
	want := []string{"run", "--rm", "--init", "--name", ctr.name, "-v", "/var/ws/01JRUN:/workspace", "-w", "/workspace/src/app",
		"-e", "CONVEYOR_RUN_ID", "-e", "CONVEYOR_STEP", "-e", "CONVEYOR_ATTEMPT", "-e", "CI", "-e", "CONVEYOR_WORKSPACE",
		"-e", "CONVEYOR_OUTPUT", "-e", "CONVEYOR_RESOURCE", "-e", "CONVEYOR_RESOURCE_NAME", "-e", "GOFLAGS",
		"-e", "SECRET_API", "-e", "SECRET_REGISTRY_PASSWORD",
		"--entrypoint", "bash", "golang:1.25", "-eo", "pipefail", "-c", "make test"}
	args := ctr.args()
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	for _, arg := range args {
		if strings.Contains(arg, "hunter2") || strings.Contains(arg, "s3cret") || strings.Contains(arg, "mod=mod") {
			t.Errorf("a value on the command line: %q", arg)
		}
	}
	// The values are in the client's environment, the paths as the
	// container sees them.
	env := StepEnv(req, vars...)
	for _, kv := range []string{"CONVEYOR_WORKSPACE=/workspace", "CONVEYOR_OUTPUT=/workspace/.conveyor-output-123",
		"GOFLAGS=-mod=mod", "SECRET_REGISTRY_PASSWORD=hunter2", "CONVEYOR_STEP=build step"} {
		if !slices.Contains(env, kv) {
			t.Errorf("the client's environment lacks %s", kv)
		}
	}

	p.Workdir = ""
	ctr, _, _ = newContainer(req, p, "/var/ws/01JRUN", "/var/ws/01JRUN/.conveyor-output-123")
	if args := strings.Join(ctr.args(), " "); !strings.Contains(args, " -w /workspace ") {
		t.Errorf("without a workdir: %s", args)
	}
	if _, _, err := newContainer(req, p, "/var/a:b/01JRUN", "/var/a:b/01JRUN/.conveyor-output-1"); err == nil {
		t.Error("a workspace with ':' was mounted")
	}
}

// TestContainerNamesAreCleanAndDistinct: a name holds only what an engine
// allows, and two containers of one attempt differ.
func TestContainerNamesAreCleanAndDistinct(t *testing.T) {
	req := sdk.Request{RunID: "run/1", Step: "déploy:" + strings.Repeat("x", 100), Attempt: 1}
	a, b := containerName(req), containerName(req)
	if a == b {
		t.Errorf("two names of one attempt are the same: %s", a)
	}
	if strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" || len(a) > 150 {
		t.Errorf("name %q", a)
	}
}

// TestWithImageNeedsAnEngine: with no engine on PATH, or one that cannot
// run containers (a docker client without its daemon), a step with an
// image fails saying so, and its script does not run on the host.
func TestWithImageNeedsAnEngine(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin)
	root := t.TempDir()
	cfg := Config{Resources: []string{"work"}, WorkspaceRoot: root}
	cfg.setDefaults()
	d := &driver{cfg: cfg, workspaces: newWorkspaces(root, cfg.WorkspaceTTL, cfg.Logger), outputs: filepath.Join(root, outputDir),
		engines: &engines{named: cfg.ContainerEngine, log: cfg.Logger}}
	req := sdk.Request{RunID: "r1", Step: "s", Attempt: 1, With: json.RawMessage(`{"run": "touch ran-on-the-host", "image": "alpine"}`)}

	res := d.reconcile(context.Background(), req)
	if res.Success || !strings.Contains(res.Message, "with.image needs docker or podman on the driver's host; neither was found") ||
		!strings.Contains(res.Message, "docker: not found") || !strings.Contains(res.Message, "podman: not found") {
		t.Errorf("result %+v", res)
	}

	// A docker without its daemon; the failure is remembered for a while.
	script := "#!/bin/sh\necho \"$@\" >> " + filepath.Join(bin, "calls") + "\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d.engines = &engines{named: ContainerEngineAuto, log: cfg.Logger}
	for range 2 {
		res = d.reconcile(context.Background(), req)
		if res.Success || !errors.Is(d.engines.err, errNoEngine) || !strings.Contains(res.Message, "docker info: Cannot connect to the Docker daemon") {
			t.Errorf("result %+v", res)
		}
	}
	if calls, _ := os.ReadFile(filepath.Join(bin, "calls")); string(calls) != "info\n" {
		t.Errorf("docker was called with %q; want info, once", calls)
	}
	if _, err := os.Stat(filepath.Join(root, "r1", "ran-on-the-host")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the script ran on the host: %v", err)
	}

	// An engine named by --container-engine is the only one tried.
	d.engines = &engines{named: filepath.Join(bin, "nerdctl"), log: cfg.Logger}
	if _, err := d.engines.find(context.Background()); err == nil || !strings.Contains(err.Error(), "nerdctl: not found") ||
		strings.Contains(err.Error(), "docker info") {
		t.Errorf("a named engine: %v", err)
	}
}
