package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/conveyor/conveyor/domain"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// record is how every read model value is stored: the value with the
// aggregate version and the log sequence of the last event applied to it.
type record[T any] struct {
	Value            T      `json:"value"`
	AggregateVersion uint64 `json:"aggregateVersion"`
	Sequence         uint64 `json:"sequence"`
	// Ended is a run's number among the runs that ended, while it is
	// ended (see Retention): the key of it in the order they ended.
	Ended uint64 `json:"ended,omitempty"`
}

func encode[T any](v T, m *domain.Meta) []byte {
	return encodeRecord(record[T]{Value: v, AggregateVersion: m.Version, Sequence: m.Sequence})
}

func encodeRecord[T any](r record[T]) []byte {
	data, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("projections: encode %T: %v", r.Value, err)) // only plain data is stored
	}
	return data
}

func decode[T any](kv KV) (record[T], error) { return decodeWith[T](kv, json.Unmarshal) }

func decodeWith[T any](kv KV, unmarshal domain.Unmarshal) (record[T], error) {
	var r record[T]
	if err := unmarshal(kv.Value, &r); err != nil {
		return r, fmt.Errorf("read model %s is corrupt: %w", kv.Key, err)
	}
	return r, nil
}

// KnownLimit bounds the values a Projector remembers: past it, the one used
// least recently is forgotten. Values bigger than knownMaxBytes, and runs
// that ended, are not kept: a run that ended rarely has another event, and
// what the projector holds follows the work in flight, not the history.
const (
	KnownLimit    = 2048
	knownMaxBytes = 64 << 10
)

// Projector turns events, applied in log order by one writer, into the
// writes of the read models. It remembers the values it wrote, so that an
// event that reads what an earlier one wrote (a result into its resource, a
// run's next step) costs no read of the store. It is not safe for
// concurrent use: the Runner is its one user, and forgets what it knows
// whenever it is no longer sure to be the only writer.
type Projector struct {
	store     Store
	known     *simplelru.LRU[string, value]
	unmarshal domain.Unmarshal
	retention Retention
	// ended holds the projector's own writes of the ended runs' numbers
	// (and their count) while retention lets go of them: the one read each
	// run's end needs, kept in memory. At most EndedRuns entries, as it
	// forgets each it lets go of.
	ended map[string]value
}

// value is a key as the projector knows it: its bytes, or absent. A run
// is also kept decoded, so that its next event is applied without decoding
// it again; once committed, only the decoded run is remembered.
type value struct {
	data    []byte
	present bool
	run     *record[domain.Run]
}

// bytes are the stored form of v.
func (v value) bytes() []byte {
	if v.data == nil && v.run != nil {
		return encodeRecord(*v.run)
	}
	return v.data
}

// NewProjector returns a projector over store.
func NewProjector(store Store) *Projector { return NewProjectorWith(store, nil) }

// NewProjectorWith is NewProjector with unmarshal, when not nil, in place of
// encoding/json's Unmarshal to decode the values it reads back (a run, a
// resource): a faster decoder that reads the same.
func NewProjectorWith(store Store, unmarshal domain.Unmarshal) *Projector {
	if unmarshal == nil {
		unmarshal = json.Unmarshal
	}
	known, err := simplelru.NewLRU[string, value](KnownLimit, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Projector{store: store, known: known, unmarshal: unmarshal, ended: map[string]value{}}
}

// Keep sets what the projector keeps of ended runs (by default, all).
func (p *Projector) Keep(r Retention) *Projector {
	p.retention = r
	return p
}

// Forget drops everything the projector remembers.
func (p *Projector) Forget() {
	p.known.Purge()
	clear(p.ended)
}

// Remembered is how many values the projector remembers.
func (p *Projector) Remembered() int { return p.known.Len() }

// remember keeps v for key, unless it is not worth keeping (see KnownLimit)
// or a key the projector never reads back (an index entry).
func (p *Projector) remember(key string, v value) {
	if p.retention.EndedRuns > 0 && (key == runsEndedKey || strings.HasPrefix(key, runsEndedPrefix)) {
		if v.present {
			p.ended[key] = v
		} else {
			delete(p.ended, key)
		}
		return
	}
	readBack := strings.HasPrefix(key, runsPrefix) || strings.HasPrefix(key, resourcesPrefix) || strings.HasPrefix(key, resourceVersionsPrefix)
	if !readBack || (v.run != nil && v.run.Value.Ended()) || len(v.data) > knownMaxBytes {
		p.known.Remove(key)
		return
	}
	p.known.Add(key, v)
}

// Batch is the writes of several messages, committed in one transaction.
type Batch struct {
	p       *Projector
	ops     []Op
	pending map[string]value
	// dropped are prefixes deleted in this batch: a key under one that
	// the batch did not write again is absent.
	dropped []string
	bytes   int
	// Last is the log sequence of the last message added.
	Last uint64
	// unsized: a run written is encoded once, by Ops, not at each of its
	// events, and Size does not count it (see NewUnsizedBatch).
	unsized bool
}

// NewBatch starts an empty batch.
func (p *Projector) NewBatch() *Batch { return &Batch{p: p, pending: map[string]value{}} }

// NewUnsizedBatch starts a batch for a store without limits on a
// transaction (a MemStore): a run is encoded once, when Ops is called,
// however many of its events the batch holds, and Size leaves runs out.
func (p *Projector) NewUnsizedBatch() *Batch {
	b := p.NewBatch()
	b.unsized = true
	return b
}

// Ops are the batch's writes as one transaction takes them: etcd refuses a
// key written twice in one transaction, so only the last write of each key
// is kept, and none that a later delete of its prefix covers.
func (b *Batch) Ops() []Op {
	last := make(map[string]int, len(b.ops))
	var prefixes []int // positions of the prefix deletes
	for i, op := range b.ops {
		if op.Prefix {
			prefixes = append(prefixes, i)
		} else {
			last[op.Key] = i
		}
	}
	out := make([]Op, 0, len(last)+len(prefixes))
	for i, op := range b.ops {
		if !op.Prefix && (last[op.Key] != i || b.droppedAfter(op.Key, i, prefixes)) {
			continue
		}
		if op.Value == nil && !op.Delete {
			op.Value = b.pending[op.Key].bytes() // a run not encoded yet
		}
		out = append(out, op)
	}
	return out
}

// droppedAfter reports whether one of the prefix deletes at positions
// prefixes, after op i, covers key.
func (b *Batch) droppedAfter(key string, i int, prefixes []int) bool {
	for _, p := range prefixes {
		if p > i && strings.HasPrefix(key, b.ops[p].Key) {
			return true
		}
	}
	return false
}

// ErrFlush is returned by Batch.Add when a message cannot join the batch
// (it writes under a prefix the batch deletes): commit the batch, then add
// the message to a new one.
var ErrFlush = errors.New("projections: commit the batch before this message")

// Size is the number of writes and their bytes.
func (b *Batch) Size() (ops, bytes int) { return len(b.ops), b.bytes }

// Add computes the writes of one message's events (seq is its log
// position) and adds them to the batch. On an error the batch is unchanged.
func (b *Batch) Add(ctx context.Context, seq uint64, events []domain.Event) error {
	scratch := &change{b: b, pending: map[string]value{}}
	for _, e := range events {
		if err := scratch.apply(ctx, e); err != nil {
			return fmt.Errorf("%s at %d: %w", e.EventMeta().Type, seq, err)
		}
	}
	for _, op := range scratch.ops {
		for _, prefix := range b.dropped {
			if strings.HasPrefix(op.Key, prefix) {
				return ErrFlush
			}
		}
	}
	for _, op := range scratch.ops {
		b.bytes += len(op.Key) + len(op.Value)
	}
	b.ops = append(b.ops, scratch.ops...)
	for k, v := range scratch.pending {
		b.pending[k] = v
	}
	b.dropped = append(b.dropped, scratch.dropped...)
	b.Last = seq
	return nil
}

// Committed tells the projector that the batch is stored.
func (p *Projector) Committed(b *Batch) {
	for _, prefix := range b.dropped {
		for _, k := range p.known.Keys() {
			if strings.HasPrefix(k, prefix) {
				p.known.Remove(k)
			}
		}
	}
	for k, v := range b.pending {
		if v.run != nil {
			v.data = nil
		}
		p.remember(k, v)
	}
}

// Project applies events at once, in order, in one transaction per event,
// without any guard: for filling a store no one else writes, event by event
// (a test, a tool; Build batches its events instead).
func (p *Projector) Project(ctx context.Context, events ...domain.Event) error {
	for _, e := range events {
		b := p.NewBatch()
		if err := b.Add(ctx, e.EventMeta().Sequence, []domain.Event{e}); err != nil {
			return err
		}
		if _, _, err := p.store.Commit(ctx, nil, append(b.Ops(), layoutOp())); err != nil {
			return err
		}
		p.Committed(b)
	}
	return nil
}

// change is the writes of one message, kept apart until they all worked.
type change struct {
	b       *Batch
	ops     []Op
	pending map[string]value
	dropped []string
}

func (c *change) put(key string, data []byte) {
	c.ops = append(c.ops, Op{Key: key, Value: data})
	c.pending[key] = value{data: data, present: true}
}

func (c *change) del(key string) {
	c.ops = append(c.ops, Op{Key: key, Delete: true})
	c.pending[key] = value{}
}

func (c *change) dropPrefix(prefix string) {
	c.ops = append(c.ops, Op{Key: prefix, Delete: true, Prefix: true})
	for k := range c.pending {
		if strings.HasPrefix(k, prefix) {
			c.pending[k] = value{}
		}
	}
	for k := range c.b.pending {
		if strings.HasPrefix(k, prefix) {
			c.pending[k] = value{}
		}
	}
	c.dropped = append(c.dropped, prefix)
}

// get reads a key as it is after everything applied so far: this message,
// the batch, what the projector remembers, else the store.
func (c *change) get(ctx context.Context, key string) (KV, bool, error) {
	v, err := c.lookup(ctx, key)
	if err != nil {
		return KV{Key: key}, false, err
	}
	return KV{Key: key, Value: v.bytes()}, v.present, nil
}

// lookup is get's value, with the decoded run when one is kept.
func (c *change) lookup(ctx context.Context, key string) (value, error) {
	for _, m := range []map[string]value{c.pending, c.b.pending} {
		if v, ok := m[key]; ok {
			return v, nil
		}
	}
	for _, d := range [][]string{c.dropped, c.b.dropped} {
		for _, prefix := range d {
			if strings.HasPrefix(key, prefix) {
				return value{}, nil
			}
		}
	}
	if v, ok := c.b.p.known.Get(key); ok {
		return v, nil
	}
	if v, ok := c.b.p.ended[key]; ok {
		return v, nil
	}
	kv, ok, err := c.b.p.store.Get(ctx, key)
	if err != nil {
		return value{}, err
	}
	v := value{data: kv.Value, present: ok}
	c.b.p.remember(key, v)
	return v, nil
}

func (c *change) apply(ctx context.Context, e domain.Event) error {
	m := e.EventMeta()
	switch e := e.(type) {
	case *domain.ResourceDefinitionCreated:
		c.put(definitionKey(e.Definition.Name), encode(e.Definition, m))
	case *domain.ResourceDefinitionUpdated:
		c.put(definitionKey(e.Definition.Name), encode(e.Definition, m))
	case *domain.ResourceDefinitionDeleted:
		c.del(definitionKey(e.Name))
	case *domain.PipelineCreated:
		c.put(pipelineKey(e.Pipeline.Name), encode(e.Pipeline, m))
	case *domain.PipelineUpdated:
		c.put(pipelineKey(e.Pipeline.Name), encode(e.Pipeline, m))
	case *domain.PipelineDeleted:
		c.del(pipelineKey(e.Name))
	case *domain.TriggerSaved:
		c.put(triggerKey(e.Trigger.Name), encode(e.Trigger, m))
	case *domain.TriggerDeleted:
		c.triggerDeleted(e.Name)
	case *domain.TriggerFired:
		return c.triggerFired(ctx, e)
	case *domain.StatusReportFailed:
		return c.statusReportFailed(ctx, e)
	case *domain.ResourceCreated:
		c.putResource(e.Resource, m)
	case *domain.ResourceUpdated:
		return c.resourceUpdated(ctx, e)
	case *domain.ResourceDeleted:
		c.del(resourceKey(e.Type, e.Name))
		c.dropPrefix(resourceVersionsOf(e.Type, e.Name))
	default:
		if m.Aggregate == domain.AggregateRun {
			return c.runChanged(ctx, e)
		}
	}
	return nil
}

// putResource writes r as its resource's current version. Only versions
// a newer one replaced are kept under their own keys (resourceUpdated moves
// them there): the current one is read from the resource's key, so that a
// create writes one key, not two.
func (c *change) putResource(r domain.Resource, m *domain.Meta) {
	c.put(resourceKey(r.Type, r.Name), encode(r, m))
}

// resourceUpdated keeps the version it replaces under that version's key,
// and keeps the driver results the stored resource has.
func (c *change) resourceUpdated(ctx context.Context, e *domain.ResourceUpdated) error {
	r := e.Resource
	kv, ok, err := c.get(ctx, resourceKey(r.Type, r.Name))
	if err != nil {
		return err
	}
	if ok {
		old, err := decodeWith[domain.Resource](kv, c.b.p.unmarshal)
		if err != nil {
			return err
		}
		if v := old.Value.Version(); v != r.Version() {
			c.put(resourceVersionKey(r.Type, r.Name, v), kv.Value)
		}
		r.Metadata = keepResults(r.Metadata, old.Value.Metadata)
	}
	c.putResource(r, e.EventMeta())
	return nil
}

func keepResults(into, from map[string]string) map[string]string {
	out := make(map[string]string, len(into)+len(from))
	for k, v := range into {
		out[k] = v
	}
	for k, v := range from {
		if strings.HasPrefix(k, domain.MetaResultPrefix) && len(k) > len(domain.MetaResultPrefix) {
			out[k] = v
		}
	}
	return out
}
