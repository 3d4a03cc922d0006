package engine

import (
	"sync"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// runCacheSize bounds the runs the engine remembers; when full it starts
// over (a forgotten run is read from the log again when next needed).
const runCacheSize = 8192

// known is what the engine remembers of one run: its state up to a log
// position, and whether the work of its current step was published by this
// process. An ended run keeps only its position.
type known struct {
	state     *commands.RunState // nil once the run ended
	lastSeq   uint64
	published bool
}

// runCache holds the runs this engine decided or read. Safe for concurrent
// use; each run is only ever touched by the one worker it belongs to.
type runCache struct {
	mu   sync.Mutex
	runs map[string]known
}

func newRunCache() *runCache { return &runCache{runs: map[string]known{}} }

func (c *runCache) get(id string) (known, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.runs[id]
	return k, ok
}

// put remembers st, or only its position once the run ended.
func (c *runCache) put(st *commands.RunState, published bool) {
	if st == nil {
		return
	}
	k := known{state: st, lastSeq: st.LastSeq, published: published}
	if st.Run.Ended() {
		k.state = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) >= runCacheSize {
		clear(c.runs)
	}
	c.runs[st.Run.ID] = k
}

func (c *runCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.runs, id)
}

// outstanding is the work of the run's steps that were dispatched and wait
// for their results; none when the run ended.
func outstanding(run domain.Run) []domain.StepState {
	if run.Ended() {
		return nil
	}
	return run.InFlight()
}
