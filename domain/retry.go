package domain

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// RetryPolicy says how often a step is tried and how long to wait between
// tries. Attempts counts the first try; Backoff is the wait before the
// second, doubled before each further one up to MaxBackoff, each wait drawn
// between half and all of that ("equal jitter"). On lists what is retried:
// "failure" (a failed result) and "timeout" (no result or no heartbeat in
// time); empty means both.
type RetryPolicy struct {
	Attempts   int      `json:"attempts"`
	Backoff    string   `json:"backoff,omitempty"`
	MaxBackoff string   `json:"maxBackoff,omitempty"`
	On         []string `json:"on,omitempty"`
}

// What a retry policy may name in On.
const (
	RetryOnFailure = "failure"
	RetryOnTimeout = "timeout"
)

// Limits and defaults of timeouts and retries.
const (
	MaxAttempts       = 100
	DefaultBackoff    = 10 * time.Second
	DefaultMaxBackoff = 5 * time.Minute
)

// duration parses a duration field: a Go duration string, greater than zero.
// An empty one is zero.
func duration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

func checkDuration(field, s string) *ValidationError {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Invalid(field, fmt.Sprintf("must be a positive Go duration such as \"90s\" or \"10m\", not %q", s))
	}
	return nil
}

// checkTimeouts checks the timeout and retry fields of p.
func checkTimeouts(p Pipeline) ValidationErrors {
	var problems ValidationErrors
	add := func(e *ValidationError) {
		if e != nil {
			problems = append(problems, e)
		}
	}
	add(checkDuration("timeout", p.Timeout))
	for i, s := range p.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		add(checkDuration(field+".timeout", s.Timeout))
		if s.Retry == nil {
			continue
		}
		r := s.Retry
		if r.Attempts < 1 || r.Attempts > MaxAttempts {
			add(Invalid(field+".retry.attempts", fmt.Sprintf("must be from 1 to %d (it counts the first try), not %d", MaxAttempts, r.Attempts)))
		}
		add(checkDuration(field+".retry.backoff", r.Backoff))
		add(checkDuration(field+".retry.maxBackoff", r.MaxBackoff))
		if b, m := duration(r.Backoff), duration(r.MaxBackoff); b > 0 && m > 0 && b > m {
			add(Invalid(field+".retry.maxBackoff", fmt.Sprintf("must not be shorter than backoff (%s)", r.Backoff)))
		}
		for j, on := range r.On {
			if on != RetryOnFailure && on != RetryOnTimeout {
				add(Invalid(fmt.Sprintf("%s.retry.on[%d]", field, j), fmt.Sprintf("must be %q or %q, not %q", RetryOnFailure, RetryOnTimeout, on)))
			}
		}
	}
	return problems
}

// retries reports whether step i may be tried again after an attempt that
// ended as kind (RetryOnFailure or RetryOnTimeout).
func (r *Run) retries(i int, kind string) bool {
	if len(r.Pipeline.Steps) != len(r.Steps) {
		return false
	}
	p := r.Pipeline.Steps[i].Retry
	if p == nil || r.Steps[i].Attempt >= p.Attempts || r.Steps[i].ConditionFailed || r.Steps[i].ParametersFailed {
		return false
	}
	return len(p.On) == 0 || slices.Contains(p.On, kind)
}

// backoff is the wait before attempt next of step i: Backoff doubled for
// each try after the second, capped at MaxBackoff, then drawn between half
// and all of it. The draw is a hash of the run, step and attempt, so the
// decision is the same wherever and whenever it is made.
func (r *Run) backoff(i, next int) time.Duration {
	p := r.Pipeline.Steps[i].Retry
	base, ceiling := duration(p.Backoff), duration(p.MaxBackoff)
	if base == 0 {
		base = DefaultBackoff
	}
	if ceiling == 0 {
		ceiling = max(DefaultMaxBackoff, base)
	}
	wait := base
	for n := 2; n < next && wait < ceiling; n++ {
		wait *= 2
	}
	wait = min(wait, ceiling)
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", r.ID, r.Steps[i].ID, next)
	half := wait / 2
	return half + time.Duration(h.Sum64()%uint64(half+1))
}

// stepTimeout is step i's timeout, zero when it has none.
func (r *Run) stepTimeout(i int) time.Duration {
	if len(r.Pipeline.Steps) != len(r.Steps) {
		return 0
	}
	return duration(r.Pipeline.Steps[i].Timeout)
}

// NextDue is the earliest time at which the run has something to decide
// without news from a driver: a step's timeout, a retry's wait ending, the
// run's own timeout. Nil when there is none or the run has ended.
func (r Run) NextDue() *time.Time {
	if r.Ended() {
		return nil
	}
	var due *time.Time
	consider := func(t *time.Time) {
		if t != nil && (due == nil || t.Before(*due)) {
			due = t
		}
	}
	consider(r.Deadline)
	for _, s := range r.Steps {
		switch s.Status {
		case StepStatusDispatched, StepStatusWaiting:
			consider(s.Deadline)
		case StepStatusPending:
			consider(s.RetryAt)
		}
	}
	return due
}
