package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is one stored message of a stream, as a Tail hands it out. Its
// fields are shared between followers: read them, never change them.
type Msg struct {
	Sequence uint64
	Subject  string
	Time     time.Time
	Header   nats.Header
	Data     []byte
}

// TailConfig bounds what a Tail keeps and what its followers ask of the
// stream at once.
type TailConfig struct {
	// Messages and Bytes bound the ring of recent messages (defaults 4,096
	// and 8 MiB); a follower behind the ring reads the stream instead.
	Messages int
	Bytes    int
	// Readers is how many followers may read stored messages at once
	// (default 4): with a thousand streams replaying the log together, the
	// answers in flight stay a few megabytes, however many ask.
	Readers int
	Logger  *slog.Logger
}

func (c *TailConfig) setDefaults() {
	if c.Messages <= 0 {
		c.Messages = 4096
	}
	if c.Bytes <= 0 {
		c.Bytes = 8 << 20
	}
	if c.Readers <= 0 {
		c.Readers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Tail follows a whole stream with one ordered consumer and keeps its most
// recent messages in a bounded ring, so that any number of followers (see
// Follow) share that one consumer: a follower costs the stream nothing
// while it is live, and reads stored messages in bounded batches, without a
// consumer, when it is behind the ring. Safe for concurrent use; Run must
// be running for followers to get anything.
type Tail struct {
	js     jetstream.JetStream
	stream string
	cfg    TailConfig
	// readers is a slot per follower reading stored messages.
	readers chan struct{}
	// started is closed once the tail knows where the stream ended when
	// it started.
	started chan struct{}

	mu sync.RWMutex
	// ring holds the messages after sequence from, oldest first, up to
	// last; size and bytes measure it.
	ring  []Msg
	from  uint64
	last  uint64
	bytes int
	// changed is closed, and replaced, whenever a message is added.
	changed chan struct{}
}

// NewTail returns the tail of the stream named stream, read through js: a
// connection of its own keeps the server's other work clear of what the
// followers ask.
func NewTail(js jetstream.JetStream, stream string, cfg TailConfig) *Tail {
	cfg.setDefaults()
	return &Tail{js: js, stream: stream, cfg: cfg, readers: make(chan struct{}, cfg.Readers),
		started: make(chan struct{}), changed: make(chan struct{})}
}

// Run follows the stream from its end, as it is when Run starts, until ctx
// ends (nil). A failure of the consumer is logged and the follow resumes
// after the last message seen, so that followers miss nothing.
func (t *Tail) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := t.follow(ctx)
		if ctx.Err() != nil {
			break
		}
		t.cfg.Logger.Warn("following the stream for its streams; again in a second", "stream", t.stream, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (t *Tail) follow(ctx context.Context) error {
	stream, err := t.js.Stream(ctx, t.stream)
	if err != nil {
		return err
	}
	select {
	case <-t.started:
	default:
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		t.mu.Lock()
		t.from, t.last = info.State.LastSeq, info.State.LastSeq
		t.mu.Unlock()
		close(t.started)
	}
	t.mu.RLock()
	after := t.last
	t.mu.RUnlock()
	return Run(ctx, stream, Config{After: after}, func(msg jetstream.Msg) error {
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("tail of %s: %w", t.stream, err)
		}
		t.add(Msg{Sequence: meta.Sequence.Stream, Subject: msg.Subject(), Time: meta.Timestamp, Header: msg.Headers(), Data: msg.Data()})
		return nil
	})
}

// add puts m at the end of the ring, dropping the oldest messages beyond
// its bounds, and wakes the followers.
func (t *Tail) add(m Msg) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.Sequence <= t.last {
		return
	}
	if len(t.ring) == cap(t.ring) {
		// A new array twice the ring's length: the ring is copied once per
		// that many messages, not at each (a full ring of 4,096 copied at
		// every add was most of the server's time under a burst of log
		// lines). The array never grows with everything ever added, and
		// what the ring dropped stays in it only until the next copy: at
		// most about twice the ring's bounds are held.
		t.ring = append(make([]Msg, 0, 2*len(t.ring)+1), t.ring...)
	}
	t.ring = append(t.ring, m)
	t.bytes += len(m.Data)
	drop := 0
	for len(t.ring)-drop > 1 && (len(t.ring)-drop > t.cfg.Messages || t.bytes > t.cfg.Bytes) {
		t.bytes -= len(t.ring[drop].Data)
		t.from = t.ring[drop].Sequence
		drop++
	}
	// Resliced, never cleared or moved: followers may still be reading
	// the dropped messages through what since gave them.
	t.ring = t.ring[drop:]
	t.last = m.Sequence
	close(t.changed)
	t.changed = make(chan struct{})
}

// Forget empties the ring: a follower after a message it held reads the
// stream instead, and the tail goes on from the last message it saw. For a
// quiet moment, when the burst's last messages are worth more as memory
// handed back than as answers to followers that are behind.
func (t *Tail) Forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring, t.bytes, t.from = nil, 0, t.last
}

// since is up to n messages of the ring after sequence after; ok is false
// when the ring no longer holds every message after it (the follower must
// read the stream). last is the last sequence the tail has seen; changed is
// closed once it sees another.
func (t *Tail) since(after uint64, n int) (msgs []Msg, ok bool, last uint64, changed <-chan struct{}) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if after < t.from {
		return nil, false, t.last, t.changed
	}
	lo, hi := 0, len(t.ring)
	for lo < hi { // the first message after after
		mid := (lo + hi) / 2
		if t.ring[mid].Sequence <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	end := min(lo+n, len(t.ring))
	return t.ring[lo:end:end], true, t.last, t.changed
}

// errNoSequence is a stored message whose answer does not say where it is.
var errNoSequence = errors.New("a stored message without its sequence")

// stored reads one batch of the stored messages on filter after sequence
// after, handing each to fn; it reports the end of the batch.
func (t *Tail) stored(ctx context.Context, filter string, after uint64, fn func(Msg) error) (BatchEnd, error) {
	select {
	case t.readers <- struct{}{}:
	case <-ctx.Done():
		return BatchEnd{}, ctx.Err()
	}
	defer func() { <-t.readers }()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req := BatchRequest{Seq: after + 1, Batch: storedBatch, NextFor: filter, MaxBytes: storedBatchBytes}
	return ReadBatch(ctx, t.js.Conn(), t.stream, req, func(msg *nats.Msg) error {
		seq, err := strconv.ParseUint(msg.Header.Get(nats.JSSequence), 10, 64)
		if err != nil {
			return errNoSequence
		}
		at, _ := time.Parse(time.RFC3339Nano, msg.Header.Get(nats.JSTimeStamp))
		return fn(Msg{Sequence: seq, Subject: msg.Header.Get(nats.JSSubject), Time: at, Header: msg.Header, Data: msg.Data})
	})
}

// storedBatch and storedBatchBytes bound one read of stored messages.
const (
	storedBatch      = 256
	storedBatchBytes = 256 << 10
)
