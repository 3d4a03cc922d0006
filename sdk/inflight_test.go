package sdk

import (
	"context"
	"testing"
)

// TestInflightAdmitsEachKeyOnce: a key runs once at a time; once its message
// is acknowledged it is not run again, but work handed back (its result not
// stored) runs again; work without a key is never held back.
func TestInflightAdmitsEachKeyOnce(t *testing.T) {
	f := newInflight()
	ctx := context.Background()
	first := f.begin(ctx, "run-1.a.1", nil)
	if first.end == nil {
		t.Fatal("the first delivery was not admitted")
	}
	if again := f.begin(ctx, "run-1.a.1", nil); again.end != nil || again.earlier == nil {
		t.Fatal("a second delivery of running work was admitted")
	}
	first.end(false) // handed back: its result was not stored
	retry := f.begin(ctx, "run-1.a.1", nil)
	if retry.end == nil {
		t.Fatal("work handed back was not admitted again")
	}
	retry.end(true)
	if after := f.begin(ctx, "run-1.a.1", nil); after.end != nil || after.earlier == nil || !after.earlier.acked {
		t.Fatal("work whose result was stored was admitted again")
	}
	one, two := f.begin(ctx, "", nil), f.begin(ctx, "", nil)
	if one.end == nil || two.end == nil {
		t.Fatal("work without a key was held back")
	}
	f.stop("run-1.b.1", "the run was cancelled")
	if stopped := f.begin(ctx, "run-1.b.1", nil); stopped.stopped != "the run was cancelled" {
		t.Fatalf("work stopped before it came was admitted: %+v", stopped)
	}
}

// TestRecentForgetsTheOldest: the memory stays within its size.
func TestRecentForgetsTheOldest(t *testing.T) {
	r := newRecent[int]()
	for i := range recentSize + 10 {
		r.add(attemptKey("run", "s", i), i)
	}
	if _, ok := r.get(attemptKey("run", "s", 0)); ok {
		t.Error("the oldest key is still remembered")
	}
	if v, ok := r.get(attemptKey("run", "s", recentSize+9)); !ok || v != recentSize+9 {
		t.Error("the newest key is forgotten")
	}
	if len(r.values) != recentSize {
		t.Errorf("%d keys remembered, want %d", len(r.values), recentSize)
	}
}
