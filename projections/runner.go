package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// LogMessage is one message of the event log as stored: the events of one
// command (see domain.DecodeEvents) at one log position.
type LogMessage struct {
	Sequence uint64
	Data     []byte
}

// MessageLog is the event log as the projector reads it.
type MessageLog interface {
	// ReadMessages returns up to n messages from sequence from on, in log
	// order; none when the log has nothing there yet.
	ReadMessages(ctx context.Context, from uint64, n int) ([]LogMessage, error)
}

// CheckpointKey holds the log position the read models reached, written in
// the same transaction as the writes of the messages up to it: projecting is
// idempotent by log position.
const CheckpointKey = checkpointsPrefix + "readmodel"

// RunnerConfig configures the Runner; Log, Store and Lead are required.
type RunnerConfig struct {
	Log   MessageLog
	Store Store
	// Lead blocks until this process may be the one projector, and returns
	// a context that ends when it no longer may. Several servers can run a
	// Runner: one writes at a time. The checkpoint's guard keeps even two
	// brief leaders from applying a message twice.
	Lead func(ctx context.Context) (context.Context, error)
	// Parking keeps the messages that cannot be applied (nil: logged only).
	Parking Parking
	// Position is moved on every commit (nil: none).
	Position *Position
	// Wake, when it receives, says the log may have grown (nil: polling only).
	Wake <-chan struct{}
	// Poll is how often the log is read when nothing wakes the runner
	// (default 1s).
	Poll time.Duration
	// MaxOps and MaxBytes bound one transaction (defaults 100 and 1 MiB,
	// within etcd's default limits of 128 operations and 1.5 MiB).
	MaxOps, MaxBytes int
	Logger           *slog.Logger
	// Decode decodes a message of the log at its position (default
	// domain.DecodeEventsAt); a faster decoder that reads the same may take
	// its place.
	Decode func(data []byte, seq uint64) ([]domain.Event, error)
	// Unmarshal decodes the values the projection reads back (default
	// encoding/json's; see NewProjectorWith).
	Unmarshal domain.Unmarshal
	// Retention is what the read models keep of ended runs (default: all).
	Retention Retention
}

func (c *RunnerConfig) setDefaults() {
	if c.Poll == 0 {
		c.Poll = time.Second
	}
	if c.MaxOps == 0 {
		c.MaxOps = 100
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Position == nil {
		c.Position = NewPosition()
	}
	if c.Decode == nil {
		c.Decode = domain.DecodeEventsAt
	}
}

// Validate reports what is missing.
func (c RunnerConfig) Validate() error {
	var errs []error
	if c.Log == nil {
		errs = append(errs, errors.New("projections: RunnerConfig.Log is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("projections: RunnerConfig.Store is required"))
	}
	if c.Lead == nil {
		errs = append(errs, errors.New("projections: RunnerConfig.Lead is required"))
	}
	return errors.Join(errs...)
}

// Runner is the one writer of the read models: it reads the log from the
// checkpoint on, applies many messages per transaction, and moves the
// checkpoint in the same transaction. A message it cannot apply (it does not
// decode, or its writes are refused by the store for what they are, not
// because the store is away) is parked and skipped: it never holds back the
// messages after it, and is never retried without end.
type Runner struct {
	cfg RunnerConfig
}

// NewRunner returns a runner; call Run.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg}, nil
}

// Run projects until ctx ends, as the leader whenever it may be.
func (r *Runner) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		lctx, err := r.cfg.Lead(ctx)
		if err == nil {
			err = r.lead(lctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			r.cfg.Logger.Warn("projector paused; resuming", "err", err)
		}
		sleep(ctx, time.Second)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// checkpoint is the stored position, the revision that guards it, and the
// read-model generation it belongs to.
type checkpoint struct {
	seq uint64
	rev int64
	gen int
}

func (r *Runner) readCheckpoint(ctx context.Context) (checkpoint, error) {
	gen := generationOf(r.cfg.Store)
	kv, ok, err := r.cfg.Store.Get(ctx, CheckpointKey)
	if err != nil || !ok {
		return checkpoint{gen: gen}, err
	}
	seq, err := strconv.ParseUint(string(kv.Value), 10, 64)
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint %q is not a log position", kv.Value)
	}
	return checkpoint{seq: seq, rev: kv.ModRevision, gen: gen}, nil
}

// generationer is a store that moves between read-model generations.
type generationer interface{ Generation() int }

func generationOf(s Store) int {
	if g, ok := s.(generationer); ok {
		return g.Generation()
	}
	return 0
}

// ReadPosition is the log position the read models in store reached, and
// the generation they are in.
func ReadPosition(ctx context.Context, store Store) (int, uint64, error) {
	gen := generationOf(store)
	kv, ok, err := store.Get(ctx, CheckpointKey)
	if err != nil || !ok {
		return gen, 0, err
	}
	seq, err := strconv.ParseUint(string(kv.Value), 10, 64)
	return gen, seq, err
}

// readBatch is how many messages one read of the log asks for.
const readBatch = 512

// lead projects while ctx lasts. Transient failures wait and try again.
func (r *Runner) lead(ctx context.Context) error {
	p := NewProjectorWith(r.cfg.Store, r.cfg.Unmarshal).Keep(r.cfg.Retention)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		cp, err := r.readCheckpoint(ctx)
		if err == nil {
			err = r.upgradeLayout(ctx, cp)
		}
		if err == nil {
			r.cfg.Position.SetIn(cp.gen, cp.seq)
			err = r.follow(ctx, p, cp)
		}
		p.Forget()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, errMoved) {
			r.cfg.Logger.Warn("projection failed; trying again", "err", err, "in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
	}
	return nil
}

// errMoved: the checkpoint changed under this runner (a rebuild switched
// generations, or another server projected): start again from it.
var errMoved = errors.New("the checkpoint moved")

// follow applies the log from cp on until an error.
func (r *Runner) follow(ctx context.Context, p *Projector, cp checkpoint) error {
	for ctx.Err() == nil {
		if generationOf(r.cfg.Store) != cp.gen {
			return errMoved // a rebuild switched generations
		}
		msgs, err := r.cfg.Log.ReadMessages(ctx, cp.seq+1, readBatch)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			r.idle(ctx)
			continue
		}
		if cp, err = r.apply(ctx, p, cp, msgs); err != nil {
			return err
		}
	}
	return nil
}

// idle waits until the log may have grown.
func (r *Runner) idle(ctx context.Context) {
	t := time.NewTimer(r.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-r.cfg.Wake:
	}
}

// apply commits msgs in as few transactions as the limits allow.
func (r *Runner) apply(ctx context.Context, p *Projector, cp checkpoint, msgs []LogMessage) (checkpoint, error) {
	b := p.NewBatch()
	for _, m := range msgs {
		if m.Sequence <= cp.seq {
			continue
		}
		events, err := r.cfg.Decode(m.Data, m.Sequence)
		if err == nil {
			err = b.Add(ctx, m.Sequence, events)
			if errors.Is(err, ErrFlush) {
				if cp, err = r.commitOrSplit(ctx, p, cp, b, msgs); err != nil {
					return cp, err
				}
				b = p.NewBatch()
				err = b.Add(ctx, m.Sequence, events)
			}
		}
		if err != nil {
			if transient(err) {
				return cp, err
			}
			reason := err
			if cp, err = r.commitOrSplit(ctx, p, cp, b, msgs); err != nil {
				return cp, err
			}
			if cp, err = r.park(ctx, p, cp, m, events, reason); err != nil {
				return cp, err
			}
			b = p.NewBatch()
			continue
		}
		if ops, bytes := b.Size(); ops >= r.cfg.MaxOps || bytes >= r.cfg.MaxBytes {
			if cp, err = r.commitOrSplit(ctx, p, cp, b, msgs); err != nil {
				return cp, err
			}
			b = p.NewBatch()
		}
	}
	return r.commitOrSplit(ctx, p, cp, b, msgs)
}

// commitOrSplit commits b; when the store refuses it for its size, it
// applies its messages one at a time, parking the one that alone is too
// much.
func (r *Runner) commitOrSplit(ctx context.Context, p *Projector, cp checkpoint, b *Batch, msgs []LogMessage) (checkpoint, error) {
	next, err := r.commit(ctx, p, cp, b)
	if err == nil || transient(err) || errors.Is(err, errMoved) {
		return next, err
	}
	for _, m := range msgs {
		if m.Sequence <= cp.seq || m.Sequence > b.Last {
			continue
		}
		one := p.NewBatch()
		events, derr := r.cfg.Decode(m.Data, m.Sequence)
		if derr == nil {
			derr = one.Add(ctx, m.Sequence, events)
		}
		if derr == nil {
			next, derr = r.commit(ctx, p, cp, one)
			if derr == nil {
				cp = next
				continue
			}
		}
		if transient(derr) || errors.Is(derr, errMoved) {
			return cp, derr
		}
		if cp, err = r.park(ctx, p, cp, m, events, derr); err != nil {
			return cp, err
		}
	}
	return cp, nil
}

// commit writes b and the checkpoint at b.Last, guarded by the checkpoint.
func (r *Runner) commit(ctx context.Context, p *Projector, cp checkpoint, b *Batch) (checkpoint, error) {
	if b.Last <= cp.seq {
		return cp, nil
	}
	ops := append(b.Ops(), Op{Key: CheckpointKey, Value: []byte(strconv.FormatUint(b.Last, 10))})
	rev, ok, err := r.cfg.Store.Commit(ctx, []Guard{{Key: CheckpointKey, ModRevision: cp.rev}}, ops)
	if err != nil {
		return cp, err
	}
	if !ok {
		return cp, errMoved
	}
	p.Committed(b)
	r.cfg.Position.SetIn(cp.gen, b.Last)
	return checkpoint{seq: b.Last, rev: rev, gen: cp.gen}, nil
}

// park sets message m aside with the reason and moves the checkpoint past it.
func (r *Runner) park(ctx context.Context, p *Projector, cp checkpoint, m LogMessage, events []domain.Event, reason error) (checkpoint, error) {
	entry := ParkedEvent{Consumer: "projector", Sequence: m.Sequence, Error: reason.Error(), ParkedAt: time.Now().UTC(), Body: m.Data}
	if len(events) > 0 {
		meta := events[0].EventMeta()
		entry.Type, entry.Aggregate, entry.AggregateID = meta.Type, meta.Aggregate, meta.AggregateID
	}
	if len(entry.Body) > maxParkedBody {
		entry.Body = nil
	}
	r.cfg.Logger.Error("event parked: it cannot be applied to the read models", "sequence", m.Sequence, "type", entry.Type, "err", reason)
	if r.cfg.Parking != nil {
		if err := r.cfg.Parking.Park(ctx, entry); err != nil {
			return cp, fmt.Errorf("park event %d: %w", m.Sequence, err)
		}
	}
	skip := p.NewBatch()
	skip.Last = m.Sequence
	return r.commit(ctx, p, cp, skip)
}

// maxParkedBody is the largest event kept whole with its parking entry; a
// bigger one is named by its position only (it stays in the log).
const maxParkedBody = 64 << 10

// transient reports a failure of a dependency, as opposed to one of the
// message itself: worth trying again later.
func transient(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
