package parking

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go"
)

// List returns up to limit entries after the ID after, in the order they
// were parked, each with its ID, and the after of the next page (0 on the
// last). A limit out of 1..projections.MaxLimit means
// projections.DefaultLimit. An entry that cannot be read as one is listed
// with an Error that says so, so that it can still be seen and removed.
func (s *Store) List(ctx context.Context, after uint64, limit int) ([]projections.ParkedEvent, uint64, error) {
	if limit <= 0 || limit > projections.MaxLimit {
		limit = projections.DefaultLimit
	}
	var out []projections.ParkedEvent
	for from := after + 1; ; {
		// One more than the page: when it arrives, there is a next page.
		got := 0
		pending, err := s.readBatch(ctx, from, limit+1-len(out), func(seq uint64, subject string, data []byte) {
			out = append(out, s.entry(seq, subject, data))
			got++
		})
		switch {
		case err != nil:
			return nil, 0, err
		case len(out) > limit:
			return out[:limit], out[limit-1].ID, nil
		case got == 0 || pending == 0:
			return out, 0, nil
		}
		// The batch was cut short of the page by the server's byte limit.
		from = out[len(out)-1].ID + 1
	}
}

// entry decodes one stored entry.
func (s *Store) entry(seq uint64, subject string, data []byte) projections.ParkedEvent {
	var p projections.ParkedEvent
	if err := json.Unmarshal(data, &p); err != nil {
		p = projections.ParkedEvent{Consumer: strings.TrimPrefix(subject, s.cfg.SubjectPrefix+"."),
			Error: fmt.Sprintf("this entry is not a parked event: %v", err)}
		if json.Valid(data) {
			p.Body = data
		}
	}
	p.ID = seq
	return p
}

// batchTimeout bounds one batch read: the server answers at once or not at
// all.
const batchTimeout = 10 * time.Second

// batchRequest is JetStream's direct get of up to Batch messages from
// sequence Seq on.
type batchRequest struct {
	Seq   uint64 `json:"seq"`
	Batch int    `json:"batch"`
}

// readBatch reads up to n entries from sequence from on, in order, with one
// direct get request (the stream's replicas answer from their store without
// a consumer), and returns how many entries follow the last one sent.
// Removed entries leave gaps: each message names its own sequence.
func (s *Store) readBatch(ctx context.Context, from uint64, n int, fn func(seq uint64, subject string, data []byte)) (uint64, error) {
	if err := s.available(); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	nc := s.js.Conn()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, unavailable(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // the inbox is never used again
	body, err := json.Marshal(batchRequest{Seq: from, Batch: n})
	if err != nil {
		return 0, err
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+s.cfg.Stream, inbox, body); err != nil {
		return 0, unavailable(err)
	}
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return 0, fmt.Errorf("list parked events from %d: %w", from, unavailable(err))
		}
		switch msg.Header.Get("Status") {
		case "":
		case "404": // nothing at or after from
			return 0, nil
		case "204": // end of the batch
			pending, _ := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
			return pending, nil
		default:
			return 0, fmt.Errorf("list parked events from %d: %s %s", from, msg.Header.Get("Status"), msg.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(msg.Header.Get(nats.JSSequence), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("list parked events from %d: a message without its sequence", from)
		}
		fn(seq, msg.Header.Get(nats.JSSubject), msg.Data)
	}
}
