package follow_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/nats-io/nats.go/jetstream"
)

// startTail runs a tail of st with a ring of ring messages until the test ends.
func startTail(t *testing.T, js jetstream.JetStream, ring int) *follow.Tail {
	t.Helper()
	if _, err := js.UpdateStream(context.Background(), jetstream.StreamConfig{Name: "lines", Subjects: []string{"lines.>"}, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	tail := follow.NewTail(js, "lines", follow.TailConfig{Messages: ring, Readers: 2})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tail.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return tail
}

// TestTailFollowersShareOneConsumer: many followers of one tail, starting
// from different positions (some far behind its small ring), on different
// filters, each get every message of their filter after their position, in
// order and once, the stored ones and the live ones alike; the stream holds
// one consumer for all of them.
func TestTailFollowersShareOneConsumer(t *testing.T) {
	js, st := newStream(t)
	publish(t, js, "lines.a", 0, 300) // sequences 1-300
	publish(t, js, "lines.b", 0, 100) // 301-400
	tail := startTail(t, js, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type follower struct {
		filter string
		after  uint64
		want   int
	}
	// Later, 200 more on a and 50 more on b: 401-600 on a, 601-650 on b.
	followers := []follower{
		{"", 0, 650}, {"lines.a", 0, 500}, {"lines.b", 0, 150}, {"lines.>", 350, 300},
		{"lines.*", 399, 251}, {"lines.a", 299, 201}, {"lines.b", 620, 30},
	}
	var wg sync.WaitGroup
	got := make([][]uint64, len(followers))
	errs := make([]error, len(followers))
	for i, f := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fctx, stop := context.WithCancel(ctx)
			defer stop()
			errs[i] = tail.Follow(fctx, follow.Config{Filter: f.filter, After: f.after}, func(m follow.Msg) error {
				if f.filter != "" && !strings.HasPrefix(m.Subject, strings.TrimSuffix(strings.TrimSuffix(f.filter, ">"), "*")) {
					return fmt.Errorf("%s off filter %s", m.Subject, f.filter)
				}
				if got[i] = append(got[i], m.Sequence); len(got[i]) == f.want {
					stop()
				}
				return nil
			})
		}()
	}
	time.Sleep(200 * time.Millisecond) // some have caught up and wait on the tail
	publish(t, js, "lines.a", 300, 500)
	publish(t, js, "lines.b", 100, 150)
	if n := consumers(t, st); n != 1 {
		t.Errorf("the stream holds %d consumers for %d followers, want the tail's one", n, len(followers))
	}
	wg.Wait()
	for i, f := range followers {
		if errs[i] != nil {
			t.Errorf("follower %d: %v", i, errs[i])
		}
		if len(got[i]) != f.want {
			t.Errorf("follower %d (%q after %d) got %d messages, want %d", i, f.filter, f.after, len(got[i]), f.want)
			continue
		}
		for j := 1; j < len(got[i]); j++ {
			if got[i][j] <= got[i][j-1] {
				t.Errorf("follower %d: sequence %d after %d", i, got[i][j], got[i][j-1])
				break
			}
		}
		if got[i][0] <= f.after {
			t.Errorf("follower %d started at %d, at or before its position %d", i, got[i][0], f.after)
		}
	}
}

// TestTailFollowEndsWhenIdleSaysSo: Idle is asked once nothing on the
// filter came for IdleAfter, even while other subjects keep the tail busy,
// with the last sequence handed over.
func TestTailFollowEndsWhenIdleSaysSo(t *testing.T) {
	js, _ := newStream(t)
	publish(t, js, "lines.a", 0, 4)
	tail := startTail(t, js, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	busy, quiet := context.WithCancel(ctx)
	go func() { // another subject never stops
		for i := 0; busy.Err() == nil; i++ {
			_, _ = js.Publish(busy, "lines.b", []byte(fmt.Sprint(i)))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer quiet()
	n := 0
	var lasts []uint64
	err := tail.Follow(ctx, follow.Config{Filter: "lines.a", IdleAfter: 100 * time.Millisecond,
		Idle: func(_ context.Context, last uint64) bool {
			lasts = append(lasts, last)
			return len(lasts) == 2
		}}, func(follow.Msg) error { n++; return nil })
	if err != nil || n != 4 || len(lasts) != 2 || lasts[0] != 4 || lasts[1] != 4 {
		t.Errorf("Follow = %v after %d messages, idle saw %v; want nil after 4, idle twice at 4", err, n, lasts)
	}
}

// TestTailFollowersGetEverythingAfterItForgot: followers behind a tail that
// forgot its ring read what it held from the stream, then the live
// messages, each once and in order.
func TestTailFollowersGetEverythingAfterItForgot(t *testing.T) {
	js, _ := newStream(t)
	publish(t, js, "lines.a", 0, 20) // 1-20, before the tail
	tail := startTail(t, js, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var seen []uint64
	followFrom := func(after uint64, want int) {
		seen = seen[:0]
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		err := tail.Follow(fctx, follow.Config{After: after}, func(m follow.Msg) error {
			if seen = append(seen, m.Sequence); len(seen) == want {
				stop()
			}
			return nil
		})
		if err != nil || len(seen) != want {
			t.Fatalf("follow after %d: %v after %d messages, want %d", after, err, len(seen), want)
		}
	}
	publish(t, js, "lines.a", 20, 40) // 21-40, into the ring
	followFrom(0, 40)                 // the ring holds 21-40 once this ends
	tail.Forget()
	published := make(chan struct{})
	go func() { // 41-50, live
		defer close(published)
		time.Sleep(100 * time.Millisecond)
		for i := 40; i < 50; i++ {
			if _, err := js.Publish(context.Background(), "lines.a", []byte(fmt.Sprint(i))); err != nil {
				t.Errorf("publish %d: %v", i, err)
			}
		}
	}()
	followFrom(10, 40)
	<-published
	for i, seq := range seen {
		if seq != uint64(11+i) {
			t.Fatalf("after forgetting, the follower got %v, want 11 to 50 in order", seen)
		}
	}
}
