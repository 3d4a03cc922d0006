package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// burstKill sizes a crash-during-burst test: bursts of runs, the server
// SIGKILLed in the middle of each, drivers that stay up throughout.
type burstKill struct {
	runs        int // runs per burst; each runs two steps
	kills       int // bursts, one kill each
	workMS      int // how long each step works
	concurrency int // steps each driver process runs at once
}

// executionRecord is a line of the test driver's RECORD_FILE.
type executionRecord struct {
	RunID   string    `json:"run_id"`
	Step    string    `json:"step"`
	Attempt int       `json:"attempt"`
	PID     int       `json:"pid"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// duplicateCount is what one kill cost in executions beyond one per step.
type duplicateCount struct {
	executions int // Reconcile calls for the burst's steps
	again      int // executions of a step attempt that had run already
	concurrent int // of those, ones that overlapped an earlier one
	inFlight   int // of those, ones whose earlier execution was running at the kill
}

// TestServerKilledMidBurstRunsEachStepOnce is the short version of the
// reliability test below, for make test.
func TestServerKilledMidBurstRunsEachStepOnce(t *testing.T) {
	serverKilledMidBurst(t, burstKill{runs: 40, kills: 1, workMS: 300, concurrency: 8})
}

// TestReliabilityServerKilledMidBurst: 300 runs, three kills, as the crash
// that ran steps twice was first seen.
func TestReliabilityServerKilledMidBurst(t *testing.T) {
	reliability(t)
	serverKilledMidBurst(t, burstKill{runs: 300, kills: 3, workMS: 300, concurrency: 8})
}

// serverKilledMidBurst kills the server with SIGKILL while a burst of runs
// is being worked on and starts it again on the same data; the drivers live
// on. It counts executions per step attempt in the drivers' own records: no
// attempt may run twice at once, and a step attempt may run again only if
// its earlier execution was under way at the kill (its result could not be
// published: at-least-once). Work whose result was published before the
// kill, or that is handed out again while it runs, must not run again.
func serverKilledMidBurst(t *testing.T, spec burstKill) {
	dir, natsAddr := t.TempDir(), freePort(t)
	records := filepath.Join(t.TempDir(), "executions.jsonl")
	args := []string{"--addr", "127.0.0.1:0", "--nats-listen", natsAddr, "--data-dir", dir}
	server := startBinary(t, nil, args...)
	s := server.client(t, "/conveyor")
	for _, name := range []string{"compiler", "uploader"} {
		startTestDriver(t, name, server.at, fmt.Sprintf("WORK_MS=%d", spec.workMS),
			fmt.Sprintf("CONCURRENCY=%d", spec.concurrency), "ACK_WAIT_MS=5000", "RECORD_FILE="+records)
	}
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)

	var totals []duplicateCount
	for kill := range spec.kills {
		runs := map[string]bool{}
		for i := range spec.runs {
			out := s.must(http.StatusCreated, "POST", "/resources", buildResource(fmt.Sprintf("app-%d-%d", kill, i), "abc"))
			runs[out["runid"].(string)] = true
		}
		// Mid-burst: a third of the burst's steps have run.
		waitForExecutions(t, records, runs, 2*spec.runs/3)
		killedAt := time.Now()
		if err := server.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-server.done
		server = startBinary(t, nil, args...)
		s = server.client(t, "/conveyor")
		told := 0 // deliveries the SDK recognised and did not run, as the runs' logs say
		for id := range runs {
			if run := s.waitRun(id); run["status"] != "succeeded" {
				t.Errorf("run %s ended %v: %v", id, run["status"], run["message"])
			}
			checkRunRecordedOnce(t, s.js, id)
			told += strings.Count(logText(t, s.js, id), "delivered again")
		}
		count := countDuplicates(t, readExecutions(t, records, runs), killedAt)
		totals = append(totals, count)
		t.Logf("kill %d: %d executions for %d steps, %d ran again (%d at the same time as an earlier one, %d in flight at the kill); %d deliveries not run again",
			kill+1, count.executions, 2*spec.runs, count.again, count.concurrent, count.inFlight, told)
	}
	t.Logf("duplicates per kill: %v", againPerKill(totals))
}

func againPerKill(counts []duplicateCount) []int {
	var out []int
	for _, c := range counts {
		out = append(out, c.again)
	}
	return out
}

// countDuplicates groups executions by step attempt and reports, as test
// errors, the ones the SDK must prevent: two at once, or a repeat of work
// that was not under way at the kill.
func countDuplicates(t *testing.T, execs []executionRecord, killedAt time.Time) duplicateCount {
	t.Helper()
	byAttempt := map[string][]executionRecord{}
	for _, e := range execs {
		key := fmt.Sprintf("%s/%s/%d", e.RunID, e.Step, e.Attempt)
		byAttempt[key] = append(byAttempt[key], e)
	}
	count := duplicateCount{executions: len(execs)}
	for key, runs := range byAttempt {
		slices.SortFunc(runs, func(a, b executionRecord) int { return a.Start.Compare(b.Start) })
		for i := 1; i < len(runs); i++ {
			earlier, again := runs[i-1], runs[i]
			count.again++
			switch {
			case again.Start.Before(earlier.End):
				count.concurrent++
				t.Errorf("step %s ran twice at once: pids %d and %d, the second %v into the first",
					key, earlier.PID, again.PID, again.Start.Sub(earlier.Start).Round(time.Millisecond))
			case earlier.Start.Before(killedAt) && earlier.End.After(killedAt):
				count.inFlight++ // at-least-once: its result could not be published
			default:
				t.Errorf("step %s ran again (pid %d) though its earlier run (pid %d, from %v to %v relative to the kill) was not under way at the kill",
					key, again.PID, earlier.PID, earlier.Start.Sub(killedAt).Round(time.Millisecond), earlier.End.Sub(killedAt).Round(time.Millisecond))
			}
		}
	}
	return count
}

// waitForExecutions waits until the drivers have recorded at least n
// executions of the given runs' steps.
func waitForExecutions(t *testing.T, records string, runs map[string]bool, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(readExecutions(t, records, runs)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the drivers recorded fewer than %d executions in 60 s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readExecutions reads the drivers' records of the given runs.
func readExecutions(t *testing.T, records string, runs map[string]bool) []executionRecord {
	t.Helper()
	f, err := os.Open(records)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []executionRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e executionRecord
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a line still being written
		}
		if runs[e.RunID] {
			out = append(out, e)
		}
	}
	return out
}
