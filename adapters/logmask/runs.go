package logmask

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Values loads the secret values granted to a run (to any of its steps).
// A run that does not exist has none.
type Values func(ctx context.Context, runID string) ([]string, error)

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
	loaded  time.Time
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
		if r.now().Sub(rm.loaded) < r.cfg.Refresh {
			r.mu.Unlock()
			return rm, nil
		}
	}
	r.mu.Unlock()
	values, err := r.load(ctx, runID)
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
	rm.values = unique(append(rm.values, values...))
	rm.matcher, rm.loaded = NewMatcher(rm.values), r.now()
	return rm, nil
}
