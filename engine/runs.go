package engine

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// runCacheSize bounds the runs the engine remembers; past it, the run used
// least recently is forgotten (read from the log again when next needed).
const runCacheSize = 4096

// known is what the engine remembers of one run: its state up to a log
// position, and whether the work of its current step was published by this
// process. An ended run keeps only its position.
type known struct {
	state     *commands.RunState // nil once the run ended
	lastSeq   uint64
	published bool
	// sent is the message ids of the work of the steps in flight that this
	// process published: they are not published again while it remembers
	// the run.
	sent map[string]bool
}

// runCache holds the runs this engine decided or read, at most runCacheSize
// of them. Safe for concurrent use; each run is only ever touched by the one
// worker it belongs to.
type runCache struct {
	runs *lru.Cache[string, known]
}

func newRunCache() *runCache { return newRunCacheOf(runCacheSize) }

func newRunCacheOf(size int) *runCache {
	runs, err := lru.New[string, known](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &runCache{runs: runs}
}

func (c *runCache) get(id string) (known, bool) { return c.runs.Get(id) }

// put remembers st, or only its position once the run ended, and the
// message ids of the work sent for its steps in flight.
func (c *runCache) put(st *commands.RunState, published bool, sent map[string]bool) {
	if st == nil {
		return
	}
	k := known{state: st, lastSeq: st.LastSeq, published: published, sent: sent}
	if st.Run.Ended() {
		k.state, k.sent = nil, nil
	}
	c.runs.Add(st.Run.ID, k)
}

func (c *runCache) forget(id string) { c.runs.Remove(id) }

// forgetAll drops every run the cache holds.
func (c *runCache) forgetAll() { c.runs.Purge() }

// len is how many runs the cache holds.
func (c *runCache) len() int { return c.runs.Len() }

// outstanding is the work of the run's steps that were dispatched and wait
// for their results; none when the run ended.
func outstanding(run domain.Run) []domain.StepState {
	if run.Ended() {
		return nil
	}
	return run.InFlight()
}
