package logmask

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A run's values are loaded once, again after Refresh with the old ones
// kept, and the matchers kept are bounded: the least recently used run is
// loaded again at its next line. A run whose values cannot be loaded the
// first time gets an error, never its line in clear.
func TestRunsLoadOnceRefreshAndStayBounded(t *testing.T) {
	ctx := context.Background()
	values := map[string][]string{"r1": {"first-secret"}, "r2": {"other-secret"}}
	loads := map[string]int{}
	runs := NewRuns(func(_ context.Context, id string) ([]string, error) {
		loads[id]++
		if id == "broken" {
			return nil, errors.New("vault unavailable")
		}
		return values[id], nil
	}, RunsConfig{MaxRuns: 1, Refresh: time.Minute})
	now := time.Now()
	runs.now = func() time.Time { return now }

	line := func(run, text string) string {
		t.Helper()
		got, err := runs.Line(ctx, run, "driver", text)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := line("r1", "a first-secret"); got != "a ***" {
		t.Errorf("r1: %q", got)
	}
	line("r1", "again")
	if loads["r1"] != 1 {
		t.Errorf("r1 loaded %d times within Refresh, want once", loads["r1"])
	}
	values["r1"] = []string{"second-secret"} // set while the run goes on
	now = now.Add(2 * time.Minute)
	if got := line("r1", "first-secret second-secret"); got != "*** ***" || loads["r1"] != 2 {
		t.Errorf("after Refresh: %q, %d loads; want both values masked, two loads", got, loads["r1"])
	}
	line("r2", "x") // pushes r1 out: one run kept
	line("r1", "x")
	if loads["r1"] != 3 {
		t.Errorf("r1 loaded %d times, want 3: dropped for r2, then loaded again", loads["r1"])
	}
	if _, err := runs.Line(ctx, "broken", "driver", "s"); err == nil {
		t.Error("a run whose values cannot be loaded: no error")
	}
}

// Masks tells a run with values from one without, loading each once with
// its lines, and fails for a run whose values cannot be loaded.
func TestRunsMasksOnlyRunsWithValues(t *testing.T) {
	ctx := context.Background()
	loads := 0
	runs := NewRuns(func(_ context.Context, id string) ([]string, error) {
		loads++
		switch id {
		case "broken":
			return nil, errors.New("vault unavailable")
		case "granted":
			return []string{"first-secret"}, nil
		}
		return []string{"ab"}, nil // too short to mask: nothing to mask
	}, RunsConfig{})
	for run, want := range map[string]bool{"granted": true, "short": false} {
		if got, err := runs.Masks(ctx, run); err != nil || got != want {
			t.Errorf("Masks(%q) = %v, %v; want %v", run, got, err, want)
		}
	}
	if _, err := runs.Line(ctx, "granted", "driver", "x"); err != nil || loads != 2 {
		t.Errorf("a line after Masks: %v, %d loads; want the values loaded once per run", err, loads)
	}
	if _, err := runs.Masks(ctx, "broken"); err == nil {
		t.Error("a run whose values cannot be loaded: no error")
	}
}

// A run's id is known before the run is recorded (POST /resources answers
// it first): a line that comes before is masked against the stand-in
// values given for it, and the run is loaded again a second later, its own
// values then replacing them.
func TestARunNotYetRecordedIsMaskedAgainstStandIns(t *testing.T) {
	ctx := context.Background()
	recorded := false
	runs := NewRuns(func(context.Context, string) ([]string, error) {
		if !recorded {
			return []string{"first-secret", "other-secret"}, ErrNoRun
		}
		return []string{"first-secret"}, nil
	}, RunsConfig{Refresh: time.Hour})
	now := time.Now()
	runs.now = func() time.Time { return now }
	line := func(text string) string {
		t.Helper()
		got, err := runs.Line(ctx, "r1", "driver", text)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := line("early first-secret other-secret"); got != "early *** ***" {
		t.Errorf("a line before the run is recorded: %q, want every stand-in masked", got)
	}
	recorded = true
	if got := line("first-secret"); got != "***" {
		t.Errorf("within the second: %q", got)
	}
	now = now.Add(2 * time.Second)
	if got := line("then first-secret other-secret"); got != "then *** other-secret" {
		t.Errorf("once the run is recorded: %q, want its own secret masked, the stand-ins given up", got)
	}
}
