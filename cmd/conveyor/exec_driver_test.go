package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startExecDriver runs `conveyor driver exec args...` with its credentials, and kills it when the test ends, should it still run.
func startExecDriver(t *testing.T, s *testServer, args ...string) (*exec.Cmd, <-chan error) {
	t.Helper()
	return startExecDriverAt(t, driverNATS(t, s.at, "exec"), args...)
}

// startExecDriverAt is startExecDriver with natsURL, which carries the
// driver's credentials, as its CONVEYOR_NATS_URL.
func startExecDriverAt(t *testing.T, natsURL string, args ...string) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(conveyorBinary(t), append([]string{"driver", "exec"}, args...)...)
	cmd.Env = append(os.Environ(), "CONVEYOR_NATS_URL="+natsURL)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("the driver's output:\n%s", stderr.String())
		}
	})
	return cmd, exited
}

// interruptDriver sends SIGINT to a driver and fails t unless it exits 0
// within bound.
func interruptDriver(t *testing.T, driver *os.Process, exited <-chan error, bound time.Duration) {
	t.Helper()
	if err := driver.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	interrupted := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the driver exited with %v after SIGINT", err)
		}
		t.Logf("the driver ended %s after SIGINT", time.Since(interrupted).Round(time.Millisecond))
	case <-time.After(bound):
		t.Fatalf("the driver still runs %s after SIGINT", bound)
	}
}

// execRun makes a pipeline of exec steps and a resource that starts a run
// of it; it returns the run's id.
func execRun(s *testServer, name string, steps ...map[string]any) string {
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": name, "resource": "work", "steps": steps})
	return s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": name, "resource": "work", "pipeline": name,
		"spec": map[string]any{}})["runid"].(string)
}

// TestExecDriverRunsScripts: `conveyor driver exec` runs the steps of a
// run in one workspace, the first step's $CONVEYOR_OUTPUT reaching the
// second through `with`; a script that exits 3 fails its step, saying so,
// with its last lines in the result; a granted secret reaches the script
// and is masked in the log and the result; output is in the run's log while the
// script still runs.
func TestExecDriverRunsScripts(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	root := t.TempDir()
	startExecDriver(t, s, "--resources", "work", "--workspace-root", root)

	runID := execRun(s, "two",
		map[string]any{"id": "make", "driver": "exec", "with": map[string]any{
			"run": "echo hello > greeting.txt\necho name=world >> \"$CONVEYOR_OUTPUT\"\necho made it in \"$PWD\""}},
		map[string]any{"id": "use", "driver": "exec", "with": map[string]any{
			"run": `echo "$(cat ../greeting.txt) $NAME from $CONVEYOR_STEP"`, "workdir": "sub",
			"env": map[string]any{"NAME": "${{ results.make.data.name }}"}}})
	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v: %v\n%s", run["status"], run["steps"], joinedLogs(s, runID))
	}
	logs := joinedLogs(s, runID)
	workspace := filepath.Join(root, runID)
	for _, want := range []string{"made it in " + workspace + "\n", "hello world from use\n"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	result := runStep(run, "make")["result"].(map[string]any)
	data, _ := result["data"].(map[string]any)
	if data["name"] != "world" || data["exitCode"] != float64(0) || result["message"] != "the script exited with code 0" {
		t.Errorf("make's result: %v", result)
	}
	if _, err := os.Stat(filepath.Join(workspace, "greeting.txt")); err != nil {
		t.Errorf("the run's workspace: %v", err)
	}

	failed := execRun(s, "fails", map[string]any{"id": "fail", "driver": "exec", "with": map[string]any{"run": "echo about to fail\nexit 3"}})
	run = s.waitRun(failed)
	result = runStep(run, "fail")["result"].(map[string]any)
	data, _ = result["data"].(map[string]any)
	if run["status"] != "failed" || !strings.Contains(result["message"].(string), "exited with code 3") ||
		data["exitCode"] != float64(3) || fmt.Sprint(data["lastLines"]) != "[about to fail]" {
		t.Errorf("run %v, result %v", run["status"], result)
	}

	s.must(http.StatusOK, "PUT", "/secrets/deploy-key", map[string]any{"value": "hunter2-key"})
	secret := execRun(s, "secret", map[string]any{"id": "login", "driver": "exec", "secrets": []string{"deploy-key"},
		"with": map[string]any{"run": "echo \"key $SECRET_DEPLOY_KEY\"\necho \"used=$SECRET_DEPLOY_KEY\" >> \"$CONVEYOR_OUTPUT\""}})
	run = s.waitRun(secret)
	result = runStep(run, "login")["result"].(map[string]any)
	if logs := joinedLogs(s, secret); run["status"] != "succeeded" || !strings.Contains(logs, "key ***") || strings.Contains(logs, "hunter2") ||
		fmt.Sprint(result["data"]) != "map[exitCode:0 lastLines:[key ***] used:***]" {
		t.Errorf("run %v, result %v; log:\n%s", run["status"], result, logs)
	}

	slow := execRun(s, "slow", map[string]any{"id": "slow", "driver": "exec", "with": map[string]any{"run": "echo first line\nsleep 2\necho second line"}})
	waitLog(t, s, slow, "first line")
	if st := runStep(s.must(http.StatusOK, "GET", "/runs/"+slow, nil), "slow"); st["finishedAt"] != nil || strings.Contains(joinedLogs(s, slow), "second line") {
		t.Errorf("the first line is in the log, but the step is %v; log:\n%s", st["status"], joinedLogs(s, slow))
	}
	if run := s.waitRun(slow); run["status"] != "succeeded" || !strings.Contains(joinedLogs(s, slow), "second line") {
		t.Errorf("run %v; log:\n%s", run["status"], joinedLogs(s, slow))
	}
}

// TestExecDriverEndsWholeProcessGroups: a step that times out while its
// script's child sleeps, ignoring SIGTERM, has its whole process group gone
// within the kill grace, as has a cancelled run's; the driver takes new
// work afterwards, and a script that exits 0 leaving a child behind has the
// child killed; SIGINT while a step runs ends the driver within its shutdown
// grace and kill grace, and the step's processes with it. No process of the
// test outlives it.
func TestExecDriverEndsWholeProcessGroups(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	driver, exited := startExecDriver(t, s, "--resources", "work", "--workspace-root", t.TempDir(), "--kill-grace", "1s", "--shutdown-grace", "1s")
	// Every process of the test has this in its command line: the scripts,
	// and their sleeps.
	marker := "sleep " + strconv.Itoa(3_000_000+os.Getpid())
	processes := func() string {
		out, _ := exec.Command("pgrep", "-f", "-a", marker).Output()
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() {
		if left := processes(); left != "" {
			t.Errorf("processes of the test outlive it:\n%s", left)
			_ = exec.Command("pkill", "-KILL", "-f", marker).Run()
		}
	})

	stubborn := execRun(s, "stubborn", map[string]any{"id": "run", "driver": "exec", "timeout": "2s",
		"with": map[string]any{"run": `trap "" TERM; ` + marker + ` & echo "child $!"; wait`}})
	waitLog(t, s, stubborn, "child ")
	var child int
	if _, err := fmt.Sscanf(joinedLogs(s, stubborn), "child %d", &child); err != nil {
		t.Fatalf("no child pid in the log: %v\n%s", err, joinedLogs(s, stubborn))
	}
	if run := s.waitRun(stubborn); run["status"] != "failed" || runStep(run, "run")["timedOut"] != true {
		t.Fatalf("run %v, step %v; want failed, timed out", run["status"], runStep(run, "run"))
	}
	timedOut := time.Now()
	for alive(child) || processes() != "" {
		if time.Since(timedOut) > time.Second+2*time.Second {
			t.Fatalf("%s after the step timed out, its processes still run:\n%s", time.Since(timedOut), processes())
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancelled := execRun(s, "cancelled", map[string]any{"id": "run", "driver": "exec",
		"with": map[string]any{"run": marker + ` & echo started; wait`}})
	waitLog(t, s, cancelled, "started")
	s.must(http.StatusOK, "POST", "/runs/"+cancelled+"/cancel", nil)
	for stopped := time.Now(); processes() != ""; time.Sleep(50 * time.Millisecond) {
		if time.Since(stopped) > 5*time.Second {
			t.Fatalf("%s after the run was cancelled, its processes still run:\n%s", time.Since(stopped), processes())
		}
	}

	next := execRun(s, "next", map[string]any{"id": "run", "driver": "exec", "with": map[string]any{"run": "echo next"}})
	if run := s.waitRun(next); run["status"] != "succeeded" {
		t.Errorf("the driver's next work: %v %v", run["status"], runStep(run, "run"))
	}

	// A script that exits 0 leaving a child in the background, which
	// holds the output open: the step succeeds, the log says what was
	// left, and the child is killed.
	background := execRun(s, "background", map[string]any{"id": "run", "driver": "exec",
		"with": map[string]any{"run": marker + ` & echo "child $!"`}})
	waitLog(t, s, background, "child ")
	if _, err := fmt.Sscanf(joinedLogs(s, background), "child %d", &child); err != nil {
		t.Fatalf("no child pid in the log: %v\n%s", err, joinedLogs(s, background))
	}
	if run := s.waitRun(background); run["status"] != "succeeded" ||
		!strings.Contains(joinedLogs(s, background), "the script left processes running; they were killed") {
		t.Errorf("run %v %v; log:\n%s", run["status"], run["message"], joinedLogs(s, background))
	}
	// The driver kills the group before it publishes the result; a
	// process killed dies once the kernel runs it, which on a busy machine
	// can come a little after the result.
	for killed := time.Now(); alive(child) || processes() != ""; time.Sleep(20 * time.Millisecond) {
		if time.Since(killed) > 3*time.Second {
			t.Fatalf("the background child %d of a finished script still runs:\n%s", child, processes())
		}
	}

	busy := execRun(s, "busy", map[string]any{"id": "run", "driver": "exec",
		"with": map[string]any{"run": `trap "" TERM; ` + marker + ` & echo started; wait`}})
	waitLog(t, s, busy, "started")
	interruptDriver(t, driver.Process, exited, 10*time.Second)
	if left := processes(); left != "" {
		t.Errorf("the driver ended, its step's processes did not:\n%s", left)
	}
}

// TestExecDriverNeedsItsResourceTypes: without --resources the driver does
// not start, a usage error that names the flag.
func TestExecDriverNeedsItsResourceTypes(t *testing.T) {
	out, err := exec.Command(conveyorBinary(t), "driver", "exec").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), `"resources" not set`) {
		t.Errorf("conveyor driver exec: %v\n%s", err, out)
	}
}

// alive says whether the process pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
