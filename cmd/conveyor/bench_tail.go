package main

import (
	"context"
	"fmt"
	"time"
)

// A load leaves work behind it once no message is left to handle: the
// server hands back the memory the load took (two collections of what is
// live, then the pages: cmd/conveyor/memory_return.go, within a look of
// 10 s) and nats-server writes its stores' state. That is the load's cost,
// paid once, not what an idle server costs every minute. So the idle
// window starts once the server handed memory back after the load, or
// after --tail-wait (25 s: two of the server's looks and a margin) when it
// does not (a load too small to be worth it), and the tail is a figure of
// its own.

// burstTail is the span from the end of a load until the server handed
// its memory back, and the CPU it used meanwhile.
type burstTail struct {
	took     time.Duration
	cpu      float64 // % of one core over took
	returned bool    // false: it did not within the wait
}

// waitTail waits until the server logged more memory returns than
// returned, at most wait, and measures its CPU meanwhile.
func (s *ownServer) waitTail(ctx context.Context, returned int64, wait time.Duration) (burstTail, error) {
	pid := s.cmd.Process.Pid
	start := time.Now()
	used, err := cpuTime(pid)
	if err != nil {
		return burstTail{}, err
	}
	if err := pollUntil(ctx, func() bool { return s.returns.Load() > returned }, start.Add(wait)); err != nil {
		return burstTail{}, err
	}
	after, err := cpuTime(pid)
	if err != nil {
		return burstTail{}, err
	}
	took := time.Since(start)
	return burstTail{took: took, cpu: 100 * float64(after-used) / float64(took), returned: s.returns.Load() > returned}, nil
}

// row is the tail as a row of the table.
func (t burstTail) row(scenario string) row {
	what := "memory handed back after"
	if !t.returned {
		what = "no memory handed back within"
	}
	return row{scenario + ": after the load", what + ", CPU meanwhile", fmt.Sprintf("%v, %s of one core", t.took.Round(100*time.Millisecond), cpuPercent(t.cpu))}
}
