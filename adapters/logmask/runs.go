package logmask

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Values loads the secret values granted to a run (to any of its steps).
// For a run that does not exist it returns ErrNoRun, with the values to
// mask its lines against meanwhile.
type Values func(ctx context.Context, runID string) ([]string, error)

// ErrNoRun is what Values returns for a run that does not exist, or not
// yet: POST /resources answers a run's id before the engine records the
// run, so its first lines may come before it. They cannot be masked
// against the run's secrets, nor stored in clear: Values returns the
// values to use instead (the server's: every secret it holds), and the run
// is loaded again after a second, when those give way to its own.
var ErrNoRun = errors.New("no such run")

// unrecordedFor is how long the values of a run that was not recorded
// are used before the run is loaded again.
const unrecordedFor = time.Second

// RunsConfig bounds the matchers kept.
type RunsConfig struct {
	// MaxRuns is how many runs' matchers are kept, the least recently used
	// dropped first (default 1024). A run dropped is loaded again at its
	// next line, and loses what its streams carried.
	MaxRuns int
	// Refresh is how old a run's values may be before its next line loads
	// them again (default 30s), so a secret set during a run is masked;
	// the values loaded before are kept beside the new ones, since a
	// driver may still hold them.
	Refresh time.Duration
	// MaxStreams is how many streams (driver, step, attempt) of one run
	// carry a line's end to the next (default 256).
	MaxStreams int
}

func (c *RunsConfig) setDefaults() {
	if c.MaxRuns <= 0 {
		c.MaxRuns = 1024
	}
	if c.Refresh <= 0 {
		c.Refresh = 30 * time.Second
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 256
	}
}

// Runs masks lines by their run: a matcher per run, built once from the
// run's values and kept within RunsConfig's bounds. Safe for concurrent
// use; lines of one stream must be masked in order.
type Runs struct {
	cfg   RunsConfig
	load  Values
	now   func() time.Time
	mu    sync.Mutex
	runs  map[string]*list.Element // of *runMask
	order *list.List               // most recently used first
}

type runMask struct {
	id      string
	values  []string
	matcher *Matcher
	due     time.Time         // when its values are loaded again
	stand   bool              // values stand in for a run not recorded yet
	carry   map[string]string // by stream
}

// NewRuns masks with the values load finds.
func NewRuns(load Values, cfg RunsConfig) *Runs {
	cfg.setDefaults()
	return &Runs{cfg: cfg, load: load, now: time.Now, runs: map[string]*list.Element{}, order: list.New()}
}

// Line masks line of stream (any key naming one writer of the run, e.g.
// driver, step and attempt) of run runID. It fails when the run's values
// cannot be loaded and none were before: the caller must not store the
// line in clear.
func (r *Runs) Line(ctx context.Context, runID, stream, line string) (string, error) {
	rm, err := r.run(ctx, runID)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rm.matcher.Empty() {
		return line, nil
	}
	masked, next := rm.matcher.Line(line, rm.carry[stream])
	if _, ok := rm.carry[stream]; !ok && len(rm.carry) >= r.cfg.MaxStreams {
		clear(rm.carry)
	}
	rm.carry[stream] = next
	return masked, nil
}

// Masks reports whether run runID has anything to mask (loading its
// values as Line does): when it has not, its lines may be stored as they
// came, without being taken apart. It fails as Line does.
func (r *Runs) Masks(ctx context.Context, runID string) (bool, error) {
	rm, err := r.run(ctx, runID)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !rm.matcher.Empty(), nil
}

// run is runID's matcher, loaded or refreshed when due. Loading happens
// outside the lock: lines of other runs do not wait for it.
func (r *Runs) run(ctx context.Context, runID string) (*runMask, error) {
	r.mu.Lock()
	var rm *runMask
	if e, ok := r.runs[runID]; ok {
		r.order.MoveToFront(e)
		rm = e.Value.(*runMask)
		if r.now().Before(rm.due) {
			r.mu.Unlock()
			return rm, nil
		}
	}
	r.mu.Unlock()
	values, err := r.load(ctx, runID)
	unrecorded := errors.Is(err, ErrNoRun)
	if unrecorded {
		err = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if rm != nil {
			return rm, nil // the values of the last load still hold
		}
		return nil, err
	}
	if rm == nil {
		rm = &runMask{id: runID, carry: map[string]string{}}
		r.runs[runID] = r.order.PushFront(rm)
		for r.order.Len() > r.cfg.MaxRuns {
			last := r.order.Back()
			r.order.Remove(last)
			delete(r.runs, last.Value.(*runMask).id)
		}
	}
	if rm.stand {
		rm.values = nil // stand-ins give way to what was loaded now
	}
	rm.values = unique(append(rm.values, values...))
	rm.matcher, rm.stand, rm.due = NewMatcher(rm.values), unrecorded, r.now().Add(r.cfg.Refresh)
	if unrecorded {
		rm.due = r.now().Add(min(unrecordedFor, r.cfg.Refresh))
	}
	return rm, nil
}
