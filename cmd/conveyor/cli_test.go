package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"sigs.k8s.io/yaml"
)

// cliRun runs the conveyor binary as a client of server and returns its exit
// code, stdout and stderr.
func cliRun(t *testing.T, server *process, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return cliRunEnv(t, server, append(os.Environ(), "CONVEYOR_TOKEN="+server.token), stdin, args...)
}

// cliRunEnv is cliRun with the environment env (the server's address is
// added to it).
func cliRunEnv(t *testing.T, server *process, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	host, port, _ := strings.Cut(strings.TrimPrefix(server.at.API, "http://"), ":")
	cmd := exec.Command(conveyorBinary(t), args...)
	cmd.Env = append(env, "CONVEYOR_SERVER_HOST="+host, "CONVEYOR_SERVER_PORT="+port)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestCLIEndToEnd applies a definition, a pipeline and a resource from one
// YAML file through the binary, waits for the run, reads its logs, and gets
// everything back as YAML.
func TestCLIEndToEnd(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	// The drivers' credentials as the README has the user get them.
	for _, name := range []string{"compiler", "uploader"} {
		code, url, errOut := cliRun(t, server, "", "drivers", "credentials", name)
		if code != 0 || !regexp.MustCompile(`^nats://cvy_\w+@127\.0\.0\.1:\d+\n$`).MatchString(url) {
			t.Fatalf("drivers credentials %s: exit %d, stdout %q\n%s", name, code, url, errOut)
		}
		startDriverWith(t, name, strings.TrimSpace(url))
	}
	if code, _, _ := cliRun(t, server, "", "drivers", "credentials", "compiler"); code == 0 {
		t.Error("credentials issued twice without --rotate")
	}
	// For a driver of the original runtime: its name as user, the token as password.
	code, originalURL, errOut := cliRun(t, server, "", "drivers", "credentials", "packager", "--original")
	if code != 0 || !regexp.MustCompile(`^nats://packager:cvy_\w+@127\.0\.0\.1:\d+\n$`).MatchString(originalURL) {
		t.Fatalf("drivers credentials packager --original: exit %d, stdout %q\n%s", code, originalURL, errOut)
	}
	if nc, err := nats.Connect(strings.TrimSpace(originalURL)); err != nil {
		t.Errorf("the --original URL does not connect: %v", err)
	} else {
		nc.Close()
	}
	file, err := os.ReadFile("../../examples/compile-upload/all.yaml")
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := cliRun(t, server, string(file), "apply", "-f", "-", "--wait")
	if code != 0 {
		t.Fatalf("apply --wait: exit %d\n%s%s", code, out, errOut)
	}
	checkREADMEShows(t, goDriverSection, "./bin/conveyor apply -f examples/compile-upload/all.yaml", out)
	for _, want := range []string{"resourcedefinition/build applied", "pipeline/ci applied", "resource/build/app-1 created (version 1, run ",
		"compile (compiler) succeeded: compiled app-1-abc123.tar.gz", "upload (uploader) succeeded", "succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	runID := regexp.MustCompile(`run ([0-9a-f-]{36}) succeeded`).FindStringSubmatch(out)
	if runID == nil {
		t.Fatalf("no run id in:\n%s", out)
	}

	code, out, errOut = cliRun(t, server, "", "logs", runID[1])
	if code != 0 || !strings.Contains(out, "compiler   | compiling https://example.com/app.git at abc123") ||
		!strings.Contains(out, "uploader   | uploaded to https://artifacts.example.com/app-1-abc123.tar.gz") {
		t.Errorf("logs: exit %d\n%s%s", code, out, errOut)
	}
	code, followed, _ := cliRun(t, server, "", "logs", runID[1], "-f")
	if code != 0 || followed != out {
		t.Errorf("logs -f of an ended run: exit %d, differs from logs:\n%s\n---\n%s", code, followed, out)
	}
	checkREADMEShows(t, goDriverSection, "./bin/conveyor logs $RUN -f", followed)

	for kind, name := range map[string]string{"definitions": "build", "pipelines": "ci", "resources": "build/app-1"} {
		code, out, errOut := cliRun(t, server, "", "get", kind, name, "-o", "yaml")
		var obj map[string]any
		if code != 0 || yaml.Unmarshal([]byte(out), &obj) != nil || obj["name"] == nil {
			t.Errorf("get %s %s -o yaml: exit %d\n%s%s", kind, name, code, out, errOut)
		}
	}
	code, out, _ = cliRun(t, server, "", "get", "resources", "-o", "yaml")
	if code != 0 || !strings.Contains(out, "driverresults.uploader") {
		t.Errorf("get resources -o yaml: exit %d\n%s", code, out)
	}
	code, out, _ = cliRun(t, server, "", "run", runID[1])
	checkREADMEShows(t, goDriverSection, "./bin/conveyor run $RUN", out)
	if code != 0 || !strings.Contains(out, "compile") || !strings.Contains(out, "succeeded") {
		t.Errorf("run: exit %d\n%s", code, out)
	}
	// The short Run ID the UI and the CLI show names the run too.
	short := runID[1][:8]
	code, out, errOut = cliRun(t, server, "", "run", short)
	if code != 0 || !strings.Contains(out, "run "+runID[1]+" of build/app-1") {
		t.Errorf("run %s (the short id): exit %d\n%s%s", short, code, out, errOut)
	}
	code, out, errOut = cliRun(t, server, "", "logs", short)
	if code != 0 || !strings.Contains(out, "compil") {
		t.Errorf("logs %s: exit %d\n%s%s", short, code, out, errOut)
	}
	api := server.client(t, "/conveyor")
	for _, query := range []string{"idPrefix=" + runID[1][:5], "idPrefix=" + short + "&status=running"} {
		if status, body := api.call("GET", "/runs?"+query, nil); status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(body["detail"]), "idPrefix") {
			t.Errorf("GET /runs?%s: %d %v, want 422 naming idPrefix", query, status, body)
		}
	}
	unknown := "ffffffff"
	if strings.HasPrefix(runID[1], unknown) {
		unknown = "eeeeeeee"
	}
	code, _, errOut = cliRun(t, server, "", "run", unknown)
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("run %s (no such run): exit %d, want 1 and not found\n%s", unknown, code, errOut)
	}
	code, out, _ = cliRun(t, server, "", "trace", short)
	if code != 0 || !strings.Contains(out, "ResourceCreated.v1") || !strings.Contains(out, "RunSucceeded.v1") {
		t.Errorf("trace: exit %d\n%s", code, out)
	}
	code, out, _ = cliRun(t, server, "", "runs", "--resource", "build/app-1", "-o", "json")
	if code != 0 || !strings.Contains(out, runID[1]) {
		t.Errorf("runs: exit %d\n%s", code, out)
	}
	code, out, _ = cliRun(t, server, "", "events", "--runid", runID[1])
	rows, note, _ := strings.Cut(out, "\n\n")
	if code != 0 || strings.Count(rows, "\n") != 7 || !strings.HasPrefix(strings.TrimSpace(rows), "SEQ") ||
		!strings.Contains(note, "appended together") {
		t.Errorf("events of the run: exit %d, want a header, 7 lines and the note on shared SEQs\n%s", code, out)
	}
	for _, want := range []string{"StepDispatched.v1       run/" + short + "          compile#1", "ResourceCreated.v1      resource/build/app-1  -          " + short} {
		if !strings.Contains(out, want) {
			t.Errorf("events of the run lack %q\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("events: a line of %d columns, want at most 100: %q", len(line), line)
		}
	}

	// Applying the same file again changes nothing: no event, no run.
	s := server.client(t, "/conveyor")
	before := s.lastSeq()
	code, out, _ = cliRun(t, server, string(file), "apply", "-f", "-")
	for _, want := range []string{"resourcedefinition/build unchanged", "pipeline/ci unchanged", "resource/build/app-1 unchanged (version 1)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("second apply: exit %d, lacks %q\n%s", code, want, out)
		}
	}
	if after := s.lastSeq(); after != before {
		t.Errorf("an unchanged apply appended to the log: sequence %d → %d", before, after)
	}
	// --rerun replaces the resource anyway: a new version and a new run.
	code, out, _ = cliRun(t, server, string(file), "apply", "-f", "-", "--rerun")
	if code != 0 || !strings.Contains(out, "resource/build/app-1 updated (version 2, run ") || strings.Contains(out, runID[1]) {
		t.Errorf("apply --rerun: exit %d\n%s", code, out)
	}
}

// TestCLIErrors: one clear line with the server's detail, and the documented
// exit codes.
func TestCLIErrors(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	cases := []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"apply", "-f", "-"}, "kind: Widget\nname: x\n", 1, `kind "Widget" is not ResourceDefinition, Pipeline, Resource or Trigger`},
		{[]string{"apply", "-f", "-"}, "kind: ResourceDefinition\nname: Bad.Name\nschema: {}\n", 1, "name: must be 1 to 63 characters"},
		{[]string{"apply", "-f", "-"}, "kind: Resource\nname: r\nresource: nope\nspec: {}\n", 1, `resource definition "nope" does not exist`},
		{[]string{"get", "resources", "build/none"}, "", 1, `not found`},
		{[]string{"get", "widgets"}, "", 2, `unknown kind "widgets"`},
		{[]string{"apply"}, "", 2, "Usage:\n  conveyor apply -f FILE"},
		{[]string{"get", "definitions", "--server", "http://127.0.0.1:1"}, "", 3, "unreachable"},
	}
	for _, tc := range cases {
		code, out, errOut := cliRun(t, server, tc.stdin, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q), stdout %q", tc.args, code, tc.code, errOut, tc.want, out)
		}
		if tc.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: the error is more than one line:\n%s", tc.args, errOut)
		}
	}
	// --wait on a run no driver takes ends at --timeout, with exit code 1.
	file := "kind: ResourceDefinition\nname: build\nschema: {type: object}\n---\nkind: Pipeline\nname: ci\nresource: build\nsteps: [{id: a, driver: absent}]\n---\nkind: Resource\nname: x\nresource: build\npipeline: ci\nspec: {}\n"
	code, out, errOut := cliRun(t, server, file, "apply", "-f", "-", "--wait", "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "deadline exceeded") {
		t.Errorf("apply --wait with no driver: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = cliRun(t, server, "# nothing yet\n", "apply", "-f", "-")
	if code != 0 || out != "" || !strings.Contains(errOut, "nothing to apply") {
		t.Errorf("apply of empty input: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = cliRun(t, server, "", "__complete", "ap")
	if code != 0 || !strings.Contains(out, "apply\t") {
		t.Errorf("completion of ap: exit %d\n%s", code, out)
	}
}
