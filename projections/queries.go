package projections

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/domain"
	"golang.org/x/sync/errgroup"
)

// Page asks for one page of a list. Limit 0 means DefaultLimit; at most
// MaxLimit. Continue is the token the previous page returned ("" = start).
type Page struct {
	Limit    int
	Continue string
}

// Page limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// Views: a read model value with the aggregate version and log sequence of
// the last event applied to it.
type (
	DefinitionView struct {
		domain.ResourceDefinition
		AggregateVersion uint64 `json:"-"`
		Sequence         uint64 `json:"-"`
	}
	ResourceView struct {
		domain.Resource
		AggregateVersion uint64 `json:"-"`
		Sequence         uint64 `json:"-"`
	}
	PipelineView struct {
		domain.Pipeline
		AggregateVersion uint64 `json:"-"`
		Sequence         uint64 `json:"-"`
	}
	RunView struct {
		domain.Run
		AggregateVersion uint64 `json:"-"`
		Sequence         uint64 `json:"-"`
	}
)

// RunFilter narrows a list of runs. Resource is "TYPE" or "TYPE/NAME".
type RunFilter struct {
	Resource, Pipeline, Status string
	// Since and Until, when set, keep the runs started in that time, both
	// ends included.
	Since, Until time.Time
}

// ReadModel answers queries from the read models. Safe for concurrent use.
type ReadModel struct {
	store Store
	// indexed is set once the read models are known to hold the run
	// indexes by status and due time (see LayoutKey).
	indexed atomic.Bool
	// archive reads a run's events from the log: Run's answer for a run
	// the read models let go of (see Retention). Nil: none.
	archive func(ctx context.Context, runID string) ([]domain.Event, error)
}

// ReadArchived makes Run read a run the read models do not hold from the
// log, with archive.
func (q *ReadModel) ReadArchived(archive func(ctx context.Context, runID string) ([]domain.Event, error)) *ReadModel {
	q.archive = archive
	return q
}

// indexedByStatus reports whether the read models hold the run indexes by
// status and due time. Until a server of this version brought read models
// of the last layout up to date (once, when it first projects), queries
// walk the run index by time instead, as that version did.
func (q *ReadModel) indexedByStatus(ctx context.Context) (bool, error) {
	if q.indexed.Load() {
		return true, nil
	}
	kv, ok, err := q.store.Get(ctx, LayoutKey)
	if err != nil {
		return false, err
	}
	if v, _ := strconv.Atoi(string(kv.Value)); ok && v >= statusIndexLayout {
		q.indexed.Store(true)
	}
	return q.indexed.Load(), nil
}

// NewReadModel returns the queries over store.
func NewReadModel(store Store) *ReadModel { return &ReadModel{store: store} }

func get[T any](ctx context.Context, s Store, key, what string) (record[T], error) {
	kv, ok, err := s.Get(ctx, key)
	if err != nil {
		return record[T]{}, err
	}
	if !ok {
		return record[T]{}, domain.NotFound(what)
	}
	return decode[T](kv)
}

// list reads one page of records under prefix.
func list[T any](ctx context.Context, s Store, prefix string, p Page) ([]record[T], string, error) {
	after, err := token(p.Continue)
	if err != nil {
		return nil, "", err
	}
	kvs, more, err := s.List(ctx, prefix, after, p.limit())
	if err != nil {
		return nil, "", err
	}
	out := make([]record[T], 0, len(kvs))
	for _, kv := range kvs {
		r, err := decode[T](kv)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	next := ""
	if more && len(kvs) > 0 {
		next = continueToken(strings.TrimPrefix(kvs[len(kvs)-1].Key, prefix))
	}
	return out, next, nil
}

func continueToken(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(after))
}

func token(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", domain.Invalid("continue", "is not a token from a previous page")
	}
	return string(b), nil
}

func views[T, V any](rs []record[T], next string, err error, view func(record[T]) V) ([]V, string, error) {
	if err != nil {
		return nil, "", err
	}
	out := make([]V, len(rs))
	for i, r := range rs {
		out[i] = view(r)
	}
	return out, next, nil
}

func definitionView(r record[domain.ResourceDefinition]) DefinitionView {
	return DefinitionView{r.Value, r.AggregateVersion, r.Sequence}
}
func resourceView(r record[domain.Resource]) ResourceView {
	return ResourceView{r.Value, r.AggregateVersion, r.Sequence}
}
func pipelineView(r record[domain.Pipeline]) PipelineView {
	return PipelineView{r.Value, r.AggregateVersion, r.Sequence}
}
func runView(r record[domain.Run]) RunView { return RunView{r.Value, r.AggregateVersion, r.Sequence} }

// Definition reads one definition; domain.ErrNotFound when absent.
func (q *ReadModel) Definition(ctx context.Context, name string) (DefinitionView, error) {
	r, err := get[domain.ResourceDefinition](ctx, q.store, definitionKey(name), fmt.Sprintf("resource definition %q", name))
	return definitionView(r), err
}

// Definitions lists definitions by name.
func (q *ReadModel) Definitions(ctx context.Context, p Page) ([]DefinitionView, string, error) {
	rs, next, err := list[domain.ResourceDefinition](ctx, q.store, definitionsPrefix, p)
	return views(rs, next, err, definitionView)
}

// Resource reads one resource.
func (q *ReadModel) Resource(ctx context.Context, typ, name string) (ResourceView, error) {
	r, err := get[domain.Resource](ctx, q.store, resourceKey(typ, name), fmt.Sprintf("resource %q", domain.ResourceKey(typ, name)))
	return resourceView(r), err
}

// Resources lists resources of typ (every type when empty) by type and name.
func (q *ReadModel) Resources(ctx context.Context, typ string, p Page) ([]ResourceView, string, error) {
	prefix := resourcesPrefix
	if typ != "" {
		prefix += typ + "/"
	}
	rs, next, err := list[domain.Resource](ctx, q.store, prefix, p)
	return views(rs, next, err, resourceView)
}

// ResourceVersions lists the versions of a resource, oldest first: those a
// newer one replaced, each under its own key, then the current one, which
// is the resource itself.
func (q *ReadModel) ResourceVersions(ctx context.Context, typ, name string, p Page) ([]ResourceView, string, error) {
	prefix := resourceVersionsOf(typ, name)
	rs, next, err := list[domain.Resource](ctx, q.store, prefix, p)
	if err != nil || next != "" {
		return views(rs, next, err, resourceView)
	}
	current, err := get[domain.Resource](ctx, q.store, resourceKey(typ, name), "")
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return views(rs, "", nil, resourceView)
	case err != nil:
		return nil, "", err
	case len(rs) > 0 && rs[len(rs)-1].Value.Version() >= current.Value.Version():
		// Read models written before the current version moved to the
		// resource's key hold it under its version key too.
		return views(rs, "", nil, resourceView)
	case len(rs) == p.limit():
		// The page is full: the current version is the next page.
		return views(rs, continueToken(resourceVersionKey(typ, name, rs[len(rs)-1].Value.Version())[len(prefix):]), nil, resourceView)
	}
	return views(append(rs, current), "", nil, resourceView)
}

// ResourceVersion reads one version of a resource: the resource itself when
// it is the current one.
func (q *ReadModel) ResourceVersion(ctx context.Context, typ, name string, version int) (ResourceView, error) {
	what := fmt.Sprintf("version %d of resource %q", version, domain.ResourceKey(typ, name))
	current, err := get[domain.Resource](ctx, q.store, resourceKey(typ, name), what)
	switch {
	case err != nil && !errors.Is(err, domain.ErrNotFound):
		return ResourceView{}, err
	case err == nil && current.Value.Version() == version:
		return resourceView(current), nil
	}
	r, err := get[domain.Resource](ctx, q.store, resourceVersionKey(typ, name, version), what)
	return resourceView(r), err
}

// CountResources counts the resources of a definition.
func (q *ReadModel) CountResources(ctx context.Context, typ string) (int, error) {
	return q.store.Count(ctx, resourcesPrefix+typ+"/")
}

// Pipeline reads one pipeline.
func (q *ReadModel) Pipeline(ctx context.Context, name string) (PipelineView, error) {
	r, err := get[domain.Pipeline](ctx, q.store, pipelineKey(name), fmt.Sprintf("pipeline %q", name))
	return pipelineView(r), err
}

// Pipelines lists pipelines by name.
func (q *ReadModel) Pipelines(ctx context.Context, p Page) ([]PipelineView, string, error) {
	rs, next, err := list[domain.Pipeline](ctx, q.store, pipelinesPrefix, p)
	return views(rs, next, err, pipelineView)
}

// Run reads one run.
//
// A run the read models let go of after it ended (see Retention) is read
// from the log: one read of its events.
func (q *ReadModel) Run(ctx context.Context, id string) (RunView, error) {
	r, err := get[domain.Run](ctx, q.store, runKey(id), fmt.Sprintf("run %q", id))
	if errors.Is(err, domain.ErrNotFound) && q.archive != nil && domain.ValidRunID(id) {
		return q.archivedRun(ctx, id, err)
	}
	return runView(r), err
}

// archivedRun is run id as the log holds it; notFound when it has none.
func (q *ReadModel) archivedRun(ctx context.Context, id string, notFound error) (RunView, error) {
	events, err := q.archive(ctx, id)
	if err != nil {
		return RunView{}, err
	}
	r, ok := foldRun(events, math.MaxUint64)
	if !ok {
		return RunView{}, notFound
	}
	return runView(r), nil
}

// runsScanLimit bounds the index entries one page of runs examines when a
// filter skips runs the index holds (a status, or a pipeline over a
// resource's index): such a page may hold fewer runs than asked, or none,
// with a continue token to go on from where it stopped. Without it, a
// status few runs have would read every run there is, on every page.
const runsScanLimit = 5000

// runsReadAtOnce is how many runs of a page are read from the store at the
// same time.
const runsReadAtOnce = 16

// Runs lists runs newest first, filtered by f.
func (q *ReadModel) Runs(ctx context.Context, f RunFilter, p Page) ([]RunView, string, error) {
	index := runIndex(f)
	if strings.HasPrefix(index, runIndexPrefix+"status/") {
		indexed, err := q.indexedByStatus(ctx)
		if err != nil {
			return nil, "", err
		}
		if !indexed {
			index = runIndexPrefix + "all/"
		}
	}
	after, err := token(p.Continue)
	if err != nil {
		return nil, "", err
	}
	limit := p.limit()
	// The index is ordered newest first: a run started at or before Until
	// comes after its bound, and the walk ends at the first run started
	// before Since.
	if !f.Until.IsZero() && after < runOrderBound(f.Until) {
		after = runOrderBound(f.Until)
	}
	byStatus := strings.HasPrefix(index, runIndexPrefix+"status/")
	skips := (f.Status != "" && !byStatus) || (f.Pipeline != "" && !strings.HasPrefix(index, runIndexPrefix+"pipeline/"))
	batch := limit
	if skips {
		batch = max(limit, 500)
	}
	var out []RunView
	for examined := 0; ; {
		kvs, more, err := q.store.List(ctx, index, after, batch)
		if err != nil {
			return nil, "", err
		}
		if !f.Since.IsZero() {
			for i, kv := range kvs {
				if strings.TrimPrefix(kv.Key, index) > runOrderBound(f.Since)+"~" {
					kvs, more = kvs[:i], false
					break
				}
			}
		}
		runs, err := q.runsOf(ctx, kvs)
		if err != nil {
			return nil, "", err
		}
		for i, r := range runs {
			after = strings.TrimPrefix(kvs[i].Key, index)
			if (f.Status == "" || r.Status == f.Status) && (f.Pipeline == "" || r.Pipeline.Name == f.Pipeline) {
				out = append(out, r)
			}
			if len(out) == limit {
				if more || i < len(kvs)-1 {
					return out, continueToken(after), nil
				}
				return out, "", nil
			}
		}
		if !more {
			return out, "", nil
		}
		if examined += len(kvs); examined >= runsScanLimit {
			return out, continueToken(after), nil
		}
	}
}

// RunsDue lists the runs that have not ended and are due at or before
// until (a step's or the run's timeout, a retry's wait), earliest first, one
// page at a time. It reads the deadline index and the runs it names,
// nothing else: its cost follows the runs due, not the runs there are.
func (q *ReadModel) RunsDue(ctx context.Context, until time.Time, p Page) ([]RunView, string, error) {
	indexed, err := q.indexedByStatus(ctx)
	if err != nil {
		return nil, "", err
	}
	if !indexed {
		return q.runsDueByScan(ctx, until, p)
	}
	after, err := token(p.Continue)
	if err != nil {
		return nil, "", err
	}
	bound := strings.TrimPrefix(runDeadlinePrefixUntil(until), runDeadlinesPrefix) + "~" // after every key due at until
	kvs, more, err := q.store.List(ctx, runDeadlinesPrefix, after, p.limit())
	if err != nil {
		return nil, "", err
	}
	for i, kv := range kvs {
		if strings.TrimPrefix(kv.Key, runDeadlinesPrefix) > bound {
			kvs, more = kvs[:i], false
			break
		}
	}
	runs, err := q.runsOf(ctx, kvs)
	if err != nil || !more || len(kvs) == 0 {
		return runs, "", err
	}
	return runs, continueToken(strings.TrimPrefix(kvs[len(kvs)-1].Key, runDeadlinesPrefix)), nil
}

// runsDueByScan is RunsDue over read models without the deadline index: a
// page of the running runs, those due by until kept.
func (q *ReadModel) runsDueByScan(ctx context.Context, until time.Time, p Page) ([]RunView, string, error) {
	running, next, err := q.Runs(ctx, RunFilter{Status: domain.RunStatusRunning}, p)
	due := running[:0]
	for _, r := range running {
		if d := r.NextDue(); d != nil && !d.After(until) {
			due = append(due, r)
		}
	}
	return due, next, err
}

// runsOf reads the runs an index page names, several at a time, in its
// order.
func (q *ReadModel) runsOf(ctx context.Context, kvs []KV) ([]RunView, error) {
	runs := make([]RunView, len(kvs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runsReadAtOnce)
	for i, kv := range kvs {
		g.Go(func() error {
			r, err := q.Run(ctx, string(kv.Value))
			runs[i] = r
			return err
		})
	}
	return runs, g.Wait()
}
