package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PresenceSubject is where drivers built on the SDK announce themselves:
// core NATS, {PresenceSubject}.{driver}; each driver's credentials allow
// only its own.
const PresenceSubject = wire.PresenceSubject

// PresenceSubjectOf is the subject of driver's announcements.
func PresenceSubjectOf(driver string) string { return wire.PresenceSubjectOf(driver) }

// presenceTTL is how long an instance counts as connected after its last
// announcement: three announcements missed.
const presenceTTL = 15 * time.Second

// Directory knows the drivers: from their announcements, heard by every
// server, and from their consumers on `messages`. Safe for concurrent use.
type Directory struct {
	js  jetstream.JetStream
	now func() time.Time

	mu        sync.Mutex
	instances map[string]map[string]instance // driver → instance id →
	consumers map[string]cachedConsumer      // consumer → its info, lately
	names     cachedNames                    // the consumers on `messages`, lately
}

// cachedNames are the names of the consumers on `messages` as read at.
type cachedNames struct {
	names []string
	at    time.Time
}

// cachedConsumer is a consumer's info as read at; a run list asks about
// the same drivers again and again.
type cachedConsumer struct {
	info *jetstream.ConsumerInfo
	at   time.Time
}

// consumerCacheAge bounds how old the pending counts GET /drivers shows are.
const consumerCacheAge = 2 * time.Second

type instance struct {
	projections.DriverInstance
	resources []string
}

// NewDirectory returns a directory reading consumers with js.
func NewDirectory(js jetstream.JetStream) *Directory {
	return &Directory{js: js, now: time.Now, instances: map[string]map[string]instance{}, consumers: map[string]cachedConsumer{}}
}

// Follow records announcements until ctx ends. The driver is the one the
// subject names, which its credentials vouch for, not the one the body
// claims.
func (d *Directory) Follow(ctx context.Context, nc *nats.Conn) error {
	sub, err := nc.Subscribe(PresenceSubject+".*", func(m *nats.Msg) {
		var a wire.Presence
		if json.Unmarshal(m.Data, &a) != nil || a.Instance == "" {
			return
		}
		d.note(strings.TrimPrefix(m.Subject, PresenceSubject+"."), a)
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

func (d *Directory) note(driver string, a wire.Presence) {
	d.mu.Lock()
	defer d.mu.Unlock()
	byID := d.instances[driver]
	if byID == nil {
		byID = map[string]instance{}
		d.instances[driver] = byID
	}
	if a.Leaving {
		delete(byID, a.Instance)
		return
	}
	byID[a.Instance] = instance{DriverInstance: projections.DriverInstance{ID: a.Instance, Host: a.Host, Labels: a.Labels, Version: a.Version,
		Since: a.Since, LastSeen: d.now().UTC()}, resources: a.Resources}
}

// Drivers lists every driver that announced itself since this server
// started or has a consumer on `messages`, by name.
func (d *Directory) Drivers(ctx context.Context) ([]projections.DriverView, error) {
	consumers, err := d.listConsumers(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range consumers {
		// A driver's consumers of label sets are the driver's.
		names = append(names, wire.ConsumerDriver(c))
	}
	d.mu.Lock()
	for name := range d.instances {
		names = append(names, name)
	}
	d.mu.Unlock()
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]projections.DriverView, 0, len(names))
	for _, name := range names {
		v, _, err := d.Driver(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Driver is one driver; false when it never announced itself here and has
// no consumer.
func (d *Directory) Driver(ctx context.Context, name string) (projections.DriverView, bool, error) {
	v := projections.DriverView{Name: name, Resources: []string{}, Instances: []projections.DriverInstance{}}
	seen := false
	now := d.now()
	d.mu.Lock()
	for id, in := range d.instances[name] {
		if now.Sub(in.LastSeen) > presenceTTL {
			delete(d.instances[name], id)
			continue
		}
		seen = true
		v.Instances = append(v.Instances, in.DriverInstance)
		v.Resources = append(v.Resources, in.resources...)
	}
	d.mu.Unlock()
	slices.SortFunc(v.Instances, func(a, b projections.DriverInstance) int { return strings.Compare(a.ID, b.ID) })
	v.Connected = len(v.Instances) > 0
	info, err := d.consumer(ctx, name)
	if err != nil {
		return v, false, err
	}
	if info != nil {
		seen = true
		v.Pending, v.InFlight = info.NumPending, uint64(info.NumAckPending)
		v.Connected = v.Connected || info.NumWaiting > 0 || info.PushBound
		v.Resources = append(v.Resources, resourcesOf(info.Config)...)
		if err := d.addLabelledWork(ctx, &v); err != nil {
			return v, false, err
		}
	}
	slices.Sort(v.Resources)
	v.Resources = slices.Compact(v.Resources)
	return v, seen, nil
}

// Connected reports whether an instance of driver that has every one of
// labels is connected now: one announced itself with them, or the
// driver's consumer of that label set has a client waiting for work (a
// driver that does not announce itself). No labels: any instance.
func (d *Directory) Connected(ctx context.Context, driver string, labels []string) bool {
	v, _, err := d.Driver(ctx, driver)
	if err != nil || len(labels) == 0 {
		return err == nil && v.Connected
	}
	for _, in := range v.Instances {
		if hasAll(in.Labels, labels) {
			return true
		}
	}
	info, err := d.consumer(ctx, wire.ConsumerName(driver, wire.LabelSet(labels)))
	return err == nil && info != nil && info.NumWaiting > 0
}

// hasAll reports whether have holds every one of want.
func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Seen reports whether driver ever announced itself here or has a
// consumer: a pipeline naming a driver never seen is likely a typo.
func (d *Directory) Seen(ctx context.Context, driver string) bool {
	_, seen, err := d.Driver(ctx, driver)
	return err != nil || seen // when it cannot tell, do not warn
}

func (d *Directory) consumer(ctx context.Context, name string) (*jetstream.ConsumerInfo, error) {
	d.mu.Lock()
	cached, ok := d.consumers[name]
	d.mu.Unlock()
	if ok && d.now().Sub(cached.at) < consumerCacheAge {
		return cached.info, nil
	}
	var info *jetstream.ConsumerInfo
	c, err := d.js.Consumer(ctx, MessagesStream, name)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrInvalidConsumerName):
	case err != nil:
		return nil, err
	default:
		info = c.CachedInfo()
	}
	d.mu.Lock()
	if len(d.consumers) > 4096 {
		clear(d.consumers)
	}
	d.consumers[name] = cachedConsumer{info: info, at: d.now()}
	d.mu.Unlock()
	return info, nil
}

// addLabelledWork adds the work of the driver's consumers of label sets to
// v's pending and in-flight counts.
func (d *Directory) addLabelledWork(ctx context.Context, v *projections.DriverView) error {
	names, err := d.consumerNames(ctx)
	if err != nil {
		return err
	}
	for _, c := range names {
		if c == v.Name || wire.ConsumerDriver(c) != v.Name {
			continue
		}
		info, err := d.consumer(ctx, c)
		if err != nil {
			return err
		}
		if info != nil {
			v.Pending += info.NumPending
			v.InFlight += uint64(info.NumAckPending)
		}
	}
	return nil
}

// consumerNames are the consumers on `messages`, as read at most
// consumerCacheAge ago.
func (d *Directory) consumerNames(ctx context.Context) ([]string, error) {
	d.mu.Lock()
	cached := d.names
	d.mu.Unlock()
	if cached.names != nil && d.now().Sub(cached.at) < consumerCacheAge {
		return cached.names, nil
	}
	return d.listConsumers(ctx)
}

// listConsumers reads the consumers on `messages` now.
func (d *Directory) listConsumers(ctx context.Context) ([]string, error) {
	s, err := d.js.Stream(ctx, MessagesStream)
	if err != nil {
		return nil, err
	}
	names := []string{}
	lister := s.ConsumerNames(ctx)
	for name := range lister.Name() {
		names = append(names, name)
	}
	if err := lister.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.names = cachedNames{names: names, at: d.now()}
	d.mu.Unlock()
	return names, nil
}

// resourcesOf reads the resource types out of a driver consumer's filter
// subjects (resources.{type} and drivers.{name}.resources.{type}).
func resourcesOf(cfg jetstream.ConsumerConfig) []string {
	filters := append(slices.Clone(cfg.FilterSubjects), cfg.FilterSubject)
	var out []string
	for _, f := range filters {
		if i := strings.LastIndex(f, "resources."); i >= 0 && f != "" {
			out = append(out, f[i+len("resources."):])
		}
	}
	return out
}
