package engine

import (
	"fmt"
	"testing"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// The engine's run cache holds at most its bound: after more runs than
// that, the ones used least recently are gone and the recent ones stay.
func TestRunCacheStaysWithinItsBound(t *testing.T) {
	c := newRunCacheOf(100)
	for i := range 250 {
		c.put(&commands.RunState{Run: domain.Run{ID: fmt.Sprint(i), Status: domain.RunStatusRunning}, LastSeq: uint64(i)}, true, nil)
		if i == 120 {
			c.get("30") // used again: kept over the ones after it
		}
	}
	if n := c.len(); n != 100 {
		t.Errorf("the cache holds %d runs after 250, want its bound, 100", n)
	}
	if _, ok := c.get("0"); ok {
		t.Error("the first run is still held")
	}
	if k, ok := c.get("249"); !ok || k.lastSeq != 249 || k.state == nil {
		t.Errorf("the last run: %+v, %v; want it held with its state", k, ok)
	}
	c.put(&commands.RunState{Run: domain.Run{ID: "249", Status: domain.RunStatusSucceeded}, LastSeq: 300}, true, nil)
	if k, _ := c.get("249"); k.state != nil || k.lastSeq != 300 {
		t.Errorf("an ended run is held as %+v, want its position only", k)
	}
}

// Forgetting every run leaves the cache empty, and it fills again.
func TestRunCacheForgetsEveryRun(t *testing.T) {
	c := newRunCacheOf(10)
	for i := range 5 {
		c.put(&commands.RunState{Run: domain.Run{ID: fmt.Sprint(i), Status: domain.RunStatusRunning}, LastSeq: uint64(i)}, true, nil)
	}
	c.forgetAll()
	if n := c.len(); n != 0 {
		t.Errorf("the cache holds %d runs after forgetting them all", n)
	}
	c.put(&commands.RunState{Run: domain.Run{ID: "5", Status: domain.RunStatusRunning}, LastSeq: 5}, true, nil)
	if _, ok := c.get("5"); !ok {
		t.Error("a run put after forgetting is not held")
	}
}
