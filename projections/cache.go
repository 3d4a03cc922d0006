package projections

import (
	"sync"

	"github.com/conveyor/conveyor/domain"
)

// cacheLimit bounds each cache; a full cache starts over.
const cacheLimit = 50000

// generationer is a store that moves between read-model generations;
// cached reads are only good within one.
type generationer interface{ Generation() int }

// cache remembers what the projector last read or wrote, so that the
// common case (this process applied the previous event of an aggregate)
// needs no read before the guarded commit. A stale entry only costs a
// failed commit: the guards of the commit decide, never the cache.
type cache struct {
	mu     sync.Mutex
	guards map[string]guardEntry
	runs   map[string]runEntry
}

type guardEntry struct {
	gen     int
	applied uint64
	rev     int64
}

type runEntry struct {
	gen     int
	run     domain.Run
	version uint64
	rev     int64
}

func newCache() *cache {
	return &cache{guards: map[string]guardEntry{}, runs: map[string]runEntry{}}
}

func (c *cache) guard(gen int, key string) (guardEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.guards[key]
	return e, ok && e.gen == gen
}

func (c *cache) putGuard(key string, e guardEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.guards) >= cacheLimit {
		c.guards = map[string]guardEntry{}
	}
	c.guards[key] = e
}

func (c *cache) run(gen int, id string) (runEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.runs[id]
	if !ok || e.gen != gen {
		return runEntry{}, false
	}
	e.run.Steps = append([]domain.StepState(nil), e.run.Steps...) // the caller folds events into it
	return e, true
}

func (c *cache) putRun(id string, e runEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) >= cacheLimit {
		c.runs = map[string]runEntry{}
	}
	e.run.Steps = append([]domain.StepState(nil), e.run.Steps...)
	c.runs[id] = e
}

// forget drops what is known of an aggregate after a commit lost a race.
func (c *cache) forget(guardKey, runID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.guards, guardKey)
	if runID != "" {
		delete(c.runs, runID)
	}
}
