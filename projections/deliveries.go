package projections

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// KeptDeliveries is how many deliveries of each trigger the read models
// keep, the latest: a trigger's recent deliveries, not its history.
const KeptDeliveries = 50

// deliveriesPrefix holds the deliveries each trigger fired:
// deliveries/{trigger}/{n}, n counting them (deliveriesCountKey).
const deliveriesPrefix = "deliveries/"

func deliveriesOf(trigger string) string { return deliveriesPrefix + trigger + "/" }
func deliveryKey(trigger string, n uint64) string {
	return fmt.Sprintf("%s%020d", deliveriesOf(trigger), n)
}

// deliveriesCountKey counts the deliveries trigger fired, ever: a
// checkpoint of the projection, not a value of it.
func deliveriesCountKey(trigger string) string { return checkpointsPrefix + "deliveries/" + trigger }

// Delivery is one webhook delivery a trigger took: when, its event and id,
// the commit and ref it names, the resource it wrote and the run that
// change started (none when the resource names no pipeline).
type Delivery struct {
	Trigger  string    `json:"trigger"`
	Event    string    `json:"event"`
	Delivery string    `json:"delivery"`
	Commit   string    `json:"commit,omitempty"`
	Ref      string    `json:"ref,omitempty"`
	Resource string    `json:"resource"`
	RunID    string    `json:"runid,omitempty"`
	Time     time.Time `json:"time"`
}

// triggerFired keeps the delivery among its trigger's latest, and lets go
// of the one KeptDeliveries before it.
func (c *change) triggerFired(ctx context.Context, e *domain.TriggerFired) error {
	m := e.EventMeta()
	count := deliveriesCountKey(e.Trigger)
	kv, _, err := c.get(ctx, count)
	if err != nil {
		return err
	}
	n, _ := strconv.ParseUint(string(kv.Value), 10, 64)
	n++
	c.put(count, []byte(strconv.FormatUint(n, 10)))
	d := Delivery{Trigger: e.Trigger, Event: e.Event, Delivery: e.Delivery, Commit: e.Commit, Ref: e.Ref,
		Resource: e.Resource.Key(), Time: m.Time}
	if e.Resource.Pipeline != "" {
		d.RunID = m.CorrelationID
	}
	c.put(deliveryKey(e.Trigger, n), encode(d, m))
	if n > KeptDeliveries {
		c.del(deliveryKey(e.Trigger, n-KeptDeliveries))
	}
	return nil
}

// triggerDeleted lets go of the trigger's deliveries and their count.
func (c *change) triggerDeleted(name string) {
	c.del(triggerKey(name))
	c.dropPrefix(deliveriesOf(name))
	c.del(deliveriesCountKey(name))
}

// Deliveries are the latest deliveries trigger fired, newest first, at
// most KeptDeliveries.
func (q *ReadModel) Deliveries(ctx context.Context, trigger string) ([]Delivery, error) {
	rs, _, err := list[Delivery](ctx, q.store, deliveriesOf(trigger), Page{Limit: 2 * KeptDeliveries})
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Value)
	}
	slices.Reverse(out)
	return out, nil
}
