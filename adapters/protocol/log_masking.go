package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Drivers publish their lines with JetStream on logs.{run_id} (the
// original runtime's wire, unchanged), but the `logs` stream does not take
// that subject: the server takes each line first, masks the run's secrets
// in it (adapters/logmask) and publishes it on maskedLogsPrefix.{run_id},
// which the stream takes and stores as logs.{run_id}, where every reader
// finds it. The publisher's reply subject goes with it, so the stream's
// acknowledgement (or refusal) reaches the publisher itself: to a driver
// nothing changed, and a line is in clear only in memory, never on disk.
// POST /logs publishes the same way, through the same masking.
//
// The cost: one more hop in the server's process per line, and a line
// published while no server runs (cluster mode with an external NATS) is
// refused instead of stored; the SDK counts it as dropped.
const maskedLogsPrefix = "conveyor.logs.masked"

// logMaskingQueue is the queue group of the servers that mask lines: each
// line is masked and stored by one of them. Lines of one writer are kept
// in order by one server; across servers of a cluster they may interleave
// by what is in flight (the `time` field orders them).
const logMaskingQueue = "conveyor-logs"

// laneDepth is how many lines wait for one lane's worker before the
// subscription waits for it; beyond that, lines wait in the connection's
// pending buffer (see MaskLogs).
const laneDepth = 256

// LineMasker masks the log lines of runs. Line masks one field of a line
// of run runID, written by the writer stream; Masks reports whether the
// run has anything to mask at all. Both fail when they cannot tell what
// to mask.
type LineMasker interface {
	Line(ctx context.Context, runID, stream, line string) (string, error)
	Masks(ctx context.Context, runID string) (bool, error)
}

// LogMasking masks and stores the lines published on logs.{run_id} until
// it is drained. Lines are handed to lanes by run, a worker each: lines
// of one run are masked and stored one after the other, in the order they
// came, while lines of other runs use the other cores.
type LogMasking struct {
	sub     *nats.Subscription
	lanes   []chan *nats.Msg
	workers sync.WaitGroup
	// mu guards closed: the subscription's handler holds it to hand a line
	// to a lane, Drain to close the lanes.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
}

// MaskLogs subscribes to every line published on logs.{run_id}, to mask
// and store it, and returns once the subscription is in place. A line
// whose run's secrets cannot be loaded is refused, never stored in clear:
// its publisher gets an error as its acknowledgement.
func MaskLogs(nc *nats.Conn, masker LineMasker, log *slog.Logger) (*LogMasking, error) {
	lm := &LogMasking{lanes: make([]chan *nats.Msg, runtime.GOMAXPROCS(0))}
	for i := range lm.lanes {
		lane := make(chan *nats.Msg, laneDepth)
		lm.lanes[i] = lane
		lm.workers.Go(func() {
			for m := range lane {
				storeMasked(nc, masker, log, m)
			}
		})
	}
	sub, err := nc.QueueSubscribe("logs.*", logMaskingQueue, lm.take)
	if err != nil {
		lm.closeLanes()
		return nil, fmt.Errorf("mask logs: %w", err)
	}
	lm.sub = sub
	// Without a limit on their count, a burst of lines waits in memory
	// (up to 256 MiB) rather than being dropped as a slow consumer's.
	_ = sub.SetPendingLimits(-1, 256<<20)
	if err := nc.Flush(); err != nil {
		return nil, errors.Join(fmt.Errorf("mask logs: %w", err), lm.Drain())
	}
	return lm, nil
}

// take hands m to the lane of its run.
func (lm *LogMasking) take(m *nats.Msg) {
	lm.mu.RLock()
	defer lm.mu.RUnlock()
	if lm.closed {
		return // drained: its publisher gets no acknowledgement, as from a stopped server
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(m.Subject))
	lm.lanes[h.Sum32()%uint32(len(lm.lanes))] <- m
}

// drainWait bounds how long Drain waits for the subscription to hand over
// the lines it holds.
const drainWait = 10 * time.Second

// Drain stops taking lines, stores those taken (masked), and returns once
// every worker is done. Call it before the connection is closed.
func (lm *LogMasking) Drain() error {
	var err error
	lm.once.Do(func() {
		done := lm.sub.StatusChanged(nats.SubscriptionClosed)
		if err = lm.sub.Drain(); err == nil {
			select {
			case <-done:
			case <-time.After(drainWait):
			}
		}
		lm.closeLanes()
	})
	return err
}

func (lm *LogMasking) closeLanes() {
	lm.mu.Lock()
	lm.closed = true
	for _, lane := range lm.lanes {
		close(lane)
	}
	lm.mu.Unlock()
	lm.workers.Wait()
}

// storeMasked masks m, a line of the run its subject names, and publishes
// it where the stream stores it, with its publisher's reply subject; or
// refuses it to its publisher when the run's secrets cannot be loaded. A
// run with nothing to mask has its line stored as it came.
func storeMasked(nc *nats.Conn, masker LineMasker, log *slog.Logger, m *nats.Msg) {
	runID := strings.TrimPrefix(m.Subject, "logs.")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := m.Data
	masks, err := masker.Masks(ctx, runID)
	if err == nil && masks {
		body, err = maskLine(ctx, masker, runID, m.Data)
	}
	if err != nil {
		log.Warn("log line refused: its run's secrets cannot be loaded", "run", runID, "err", err)
		refusal, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 503, "description": "log line not stored: " + err.Error()}})
		if m.Reply != "" {
			_ = m.Respond(refusal)
		}
		return
	}
	out := &nats.Msg{Subject: maskedLogsPrefix + "." + runID, Reply: m.Reply, Header: m.Header, Data: body}
	if strings.HasPrefix(m.Reply, importReplyPrefix) {
		relayStored(ctx, nc, log, out, m)
		return
	}
	if err := nc.PublishMsg(out); err != nil {
		log.Warn("log line not stored", "run", runID, "err", err)
	}
}

// importReplyPrefix starts the reply subjects NATS gives a request that
// came from another account through an import (a driver of the original
// runtime, OriginalRoutes). No client may publish with such a reply, only
// answer on it.
const importReplyPrefix = "_R_."

// relayStored publishes out, a line of m, as a request, and answers m with
// the stream's acknowledgement.
func relayStored(ctx context.Context, nc *nats.Conn, log *slog.Logger, out, m *nats.Msg) {
	out.Reply = ""
	ack, err := nc.RequestMsgWithContext(ctx, out)
	if err != nil {
		log.Warn("log line not stored", "subject", m.Subject, "err", err)
		return
	}
	_ = m.Respond(ack.Data)
}
