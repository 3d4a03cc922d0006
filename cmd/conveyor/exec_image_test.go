package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeEngine is a container engine, for --container-engine, that runs the
// command after the image on this host: it records each call's arguments
// in its log, runs the command in the host side of the workspace mount,
// and passes it only the variables named with -e (their values from its
// own environment, paths under the mount mapped to the host). The image
// "missing" cannot be pulled (exit 125).
const fakeEngine = `#!/usr/bin/env bash
printf '%s\n' "$*" >> LOG
case "$1" in
info|kill) exit 0 ;;
run) shift ;;
*) echo "fake engine: $1?" >&2; exit 125 ;;
esac
names=() host= mount= workdir= entrypoint=
while [ $# -gt 0 ]; do
  case "$1" in
  --rm|--init) shift ;;
  --name) shift 2 ;;
  -v) host=${2%%:*} mount=${2#*:}; shift 2 ;;
  -w) workdir=$2; shift 2 ;;
  -e) names+=("$2"); shift 2 ;;
  --entrypoint) entrypoint=$2; shift 2 ;;
  -*) echo "fake engine: unknown flag $1" >&2; exit 125 ;;
  *) break ;;
  esac
done
if [ "$1" = missing ]; then echo "Unable to find image 'missing:latest' locally" >&2; exit 125; fi
shift
vars=(PATH=/usr/local/bin:/usr/bin:/bin)
for name in "${names[@]}"; do
  [ -n "${!name+set}" ] || continue
  value=${!name}
  [[ $value == "$mount"* ]] && value=$host${value#"$mount"}
  vars+=("$name=$value")
done
cd "$host${workdir#"$mount"}" || exit 125
exec env -i "${vars[@]}" "$entrypoint" "$@"
`

// TestExecDriverRunsImagesWithTheEngine: a step with with.image runs through
// the container engine (a fake here, which runs the command on the host):
// the workspace is mounted at /workspace and the workdir in it, variables
// and secrets pass by name only (their values never on the engine's command
// line), nothing else of the driver's environment reaches the script,
// output streams into the log and $CONVEYOR_OUTPUT becomes the result's
// data; an image that cannot be pulled fails its step saying the container
// did not run; a cancelled step's container is killed by name.
func TestExecDriverRunsImagesWithTheEngine(t *testing.T) {
	dir := t.TempDir()
	engine, calls := filepath.Join(dir, "fake-engine"), filepath.Join(dir, "calls")
	if err := os.WriteFile(engine, []byte(strings.Replace(fakeEngine, "LOG", calls, 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	root := t.TempDir()
	startExecDriver(t, s, "--resources", "work", "--workspace-root", root, "--container-engine", engine, "--kill-grace", "1s")
	s.must(http.StatusOK, "PUT", "/secrets/deploy-key", map[string]any{"value": "hunter2-key"})

	runID := execRun(s, "image", map[string]any{"id": "build", "driver": "exec", "secrets": []string{"deploy-key"},
		"with": map[string]any{"image": "alpine:3", "workdir": "sub", "env": map[string]any{"GREETING": "hello"},
			"run": "echo \"home=${HOME:-unset} key=$SECRET_DEPLOY_KEY step=$CONVEYOR_STEP\"\n" +
				"echo \"greeting=$GREETING\" >> \"$CONVEYOR_OUTPUT\"\necho made > made.txt"}})
	run := s.waitRun(runID)
	logs := joinedLogs(s, runID)
	result := runStep(run, "build")["result"].(map[string]any)
	if data, _ := result["data"].(map[string]any); run["status"] != "succeeded" || data["greeting"] != "hello" {
		t.Fatalf("run %v, result %v; log:\n%s", run["status"], result, logs)
	}
	if !strings.Contains(logs, "home=unset key=*** step=build\n") {
		t.Errorf("the log lacks the script's line:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(root, runID, "sub", "made.txt")); err != nil {
		t.Errorf("the workspace's workdir: %v", err)
	}
	args, _ := os.ReadFile(calls)
	for _, want := range []string{"info\n", "run --rm --init --name conveyor-" + runID + "-build-1-",
		" -v " + filepath.Join(root, runID) + ":/workspace -w /workspace/sub ", " -e CONVEYOR_OUTPUT ", " -e GREETING ",
		" -e SECRET_DEPLOY_KEY --entrypoint sh alpine:3 -e -c echo "} {
		if !strings.Contains(string(args), want) {
			t.Errorf("the engine's calls lack %q:\n%s", want, args)
		}
	}
	if strings.Contains(string(args), "hunter2") || strings.Contains(string(args), "=hello") {
		t.Errorf("a value on the engine's command line:\n%s", args)
	}

	missing := execRun(s, "missing", map[string]any{"id": "pull", "driver": "exec", "with": map[string]any{"image": "missing", "run": "true"}})
	run = s.waitRun(missing)
	if result := runStep(run, "pull")["result"].(map[string]any); run["status"] != "failed" ||
		!strings.HasPrefix(result["message"].(string), "the container did not run: fake-engine run exited with code 125") ||
		!strings.Contains(joinedLogs(s, missing), "Unable to find image") {
		t.Errorf("run %v, result %v", run["status"], result)
	}

	cancelled := execRun(s, "cancelled", map[string]any{"id": "wait", "driver": "exec",
		"with": map[string]any{"image": "alpine:3", "run": "echo started\nsleep 30"}})
	waitLog(t, s, cancelled, "started")
	s.must(http.StatusOK, "POST", "/runs/"+cancelled+"/cancel", nil)
	for stopped := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if args, _ := os.ReadFile(calls); strings.Contains(string(args), "\nkill conveyor-"+cancelled+"-wait-1-") {
			break
		}
		if time.Since(stopped) > 10*time.Second {
			args, _ := os.ReadFile(calls)
			t.Fatalf("%s after the run was cancelled, its container was not killed:\n%s", time.Since(stopped), args)
		}
	}
}

// TestExecDriverRunsImagesInAContainer: with docker or podman that can run
// containers, a step's script runs in the image, in the mounted workspace,
// and a cancelled step's container is gone. The image is busybox, or
// $CONVEYOR_TEST_IMAGE.
func TestExecDriverRunsImagesInAContainer(t *testing.T) {
	engine, why := "", []string{}
	for _, name := range []string{"docker", "podman"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := exec.CommandContext(ctx, name, "info").Output()
		cancel()
		if err == nil {
			engine = name
			break
		}
		msg := err.Error()
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) && strings.TrimSpace(string(exit.Stderr)) != "" {
			msg, _, _ = strings.Cut(strings.TrimSpace(string(exit.Stderr)), "\n")
		}
		why = append(why, fmt.Sprintf("%s info: %.200s", name, msg))
	}
	if engine == "" {
		t.Skipf("with.image: neither docker nor podman can run containers here (%s)", strings.Join(why, "; "))
	}
	image := os.Getenv("CONVEYOR_TEST_IMAGE")
	if image == "" {
		image = "busybox:1.36"
	}
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	root := t.TempDir()
	startExecDriver(t, s, "--resources", "work", "--workspace-root", root, "--container-engine", engine, "--kill-grace", "1s")

	runID := execRun(s, "image", map[string]any{"id": "build", "driver": "exec", "with": map[string]any{"image": image,
		"env": map[string]any{"V": "42"},
		"run": "echo \"in $PWD at $CONVEYOR_WORKSPACE\"\necho \"v=$V\" >> \"$CONVEYOR_OUTPUT\"\ntouch from-the-container"}})
	run := s.waitRun(runID)
	result := runStep(run, "build")["result"].(map[string]any)
	if data, _ := result["data"].(map[string]any); run["status"] != "succeeded" || data["v"] != "42" ||
		!strings.Contains(joinedLogs(s, runID), "in /workspace at /workspace\n") {
		t.Fatalf("run %v, result %v; log:\n%s", run["status"], result, joinedLogs(s, runID))
	}
	if _, err := os.Stat(filepath.Join(root, runID, "from-the-container")); err != nil {
		t.Errorf("the file the container wrote is not in the workspace: %v", err)
	}

	cancelled := execRun(s, "cancelled", map[string]any{"id": "wait", "driver": "exec",
		"with": map[string]any{"image": image, "run": "trap '' TERM\necho started\nsleep 300"}})
	waitLog(t, s, cancelled, "started")
	s.must(http.StatusOK, "POST", "/runs/"+cancelled+"/cancel", nil)
	for stopped := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command(engine, "ps", "-a", "-q", "--filter", "name=conveyor-"+cancelled).Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			break
		}
		if time.Since(stopped) > 30*time.Second {
			t.Fatalf("%s after the run was cancelled, its container is still there: %s %v", time.Since(stopped), out, err)
		}
	}
}
