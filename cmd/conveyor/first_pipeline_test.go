package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestFirstPipelineWalkthrough follows the README's five-minute walk-through
// through the binary, as a newcomer does: the exec driver started with the
// credentials `drivers credentials exec` printed, examples/first-pipeline
// applied, the run's log followed to its end, the run shown, one matrix
// instance's log, and a resource that breaks the schema refused. The README
// shows what each command printed (run ids and clock times aside), and the
// pipeline it shows is the file's: it fails when either drifts.
func TestFirstPipelineWalkthrough(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	code, url, errOut := cliRun(t, server, "", "drivers", "credentials", "exec")
	if code != 0 || !regexp.MustCompile(`^nats://cvy_\w+@127\.0\.0\.1:\d+\n$`).MatchString(url) {
		t.Fatalf("drivers credentials exec: exit %d, stdout %q\n%s", code, url, errOut)
	}
	startExecDriverAt(t, strings.TrimSpace(url), "--resources", "source", "--concurrency", "4", "--workspace-root", t.TempDir())
	const file = "examples/first-pipeline/all.yaml"
	data, err := os.ReadFile("../../" + file)
	if err != nil {
		t.Fatal(err)
	}
	if shown := readmeBlock(t, walkthroughSection, "```yaml"); !strings.Contains(string(data), shown) {
		t.Errorf("README.md shows a pipeline that is not the one in %s:\n%s", file, shown)
	}

	code, out, errOut := cliRun(t, server, "", "apply", "-f", "../../"+file)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	checkREADMEShows(t, walkthroughSection, "./bin/conveyor apply -f "+file, out)
	m := regexp.MustCompile(`run ([0-9a-f-]{36})\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run id in:\n%s", out)
	}
	runID := m[1]

	code, out, errOut = cliRun(t, server, "", "logs", runID, "-f")
	if code != 0 {
		t.Fatalf("logs -f: exit %d\n%s%s", code, out, errOut)
	}
	checkREADMEShows(t, walkthroughSection, "./bin/conveyor logs $RUN -f", out)
	for _, line := range []string{"testing app@main with go 1.25 on linux", "testing app@main with go 1.25 on darwin",
		"testing app@main with go 1.26 on linux", "testing app@main with go 1.26 on darwin"} {
		if strings.Count(out, line+"\n") != 1 {
			t.Errorf("the log holds %q %d times, want once:\n%s", line, strings.Count(out, line+"\n"), out)
		}
	}

	code, out, errOut = cliRun(t, server, "", "run", runID)
	if code != 0 || !strings.Contains(out, "of source/app (pipeline ship): succeeded") {
		t.Errorf("run: exit %d\n%s%s", code, out, errOut)
	}
	checkREADMEShows(t, walkthroughSection, "./bin/conveyor run $RUN", out)

	code, out, errOut = cliRun(t, server, "", "logs", runID, "--step", "test[go=1.26,os=linux]")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("logs --step: exit %d, want one line\n%s%s", code, out, errOut)
	}
	checkREADMEShows(t, walkthroughSection, "./bin/conveyor logs $RUN --step 'test[go=1.26,os=linux]'", out)

	bad := "kind: Resource\nname: app-2\nresource: source\nspec: {branch: 5}\n"
	code, out, errOut = cliRun(t, server, bad, "apply", "-f", "-")
	if code != 1 || out != "" {
		t.Errorf("apply of a spec that breaks the schema: exit %d, stdout %q", code, out)
	}
	checkREADMEShows(t, walkthroughSection, `printf 'kind: Resource\nname: app-2\nresource: source\nspec: {branch: 5}\n' | ./bin/conveyor apply -f -`, errOut)
}
