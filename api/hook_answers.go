package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// hookNote is what the delivery handler learned of a delivery that its
// headers alone do not say: its event and id as its trigger reads them (a
// generic trigger names its own headers), and that its trigger exists
// (its signature matched).
type hookNote struct {
	event, delivery string
	known           bool
}

type hookNoteKey struct{}

// noteDelivery tells the answer's recorder (rememberHookAnswers) that the
// delivery to an existing trigger was read, and its event and id, when ctx
// is a delivery's.
func noteDelivery(ctx context.Context, event, delivery string) {
	if n, ok := ctx.Value(hookNoteKey{}).(*hookNote); ok {
		n.event, n.delivery, n.known = event, delivery, true
	}
}

// Where the git hosts put a delivery's event and its id.
var (
	eventHeaders    = []string{"X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"}
	deliveryHeaders = []string{"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID"}
)

// maxAnswerRead bounds what is read of an answer for its reason.
const maxAnswerRead = 4 << 10

// rememberHookAnswers serves next, and remembers each answer to POST
// /hooks/{trigger} that wrote nothing (all but 201: a ping, an event not
// taken, a delivery refused for its signature, its size, its media type or
// its body) in the replica's deliveryMemory, when the trigger exists (the
// delivery handler says so, or else its read model). It
// keeps the time, the event and delivery id (from the headers, or as the
// trigger read them), the status and the answer's reason or detail:
// never the body or a signature. The 413 and 415 are answered before the
// delivery handler, which is why this wraps the whole chain.
func (s *Server) rememberHookAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trigger, ok := strings.CutPrefix(r.URL.Path, "/hooks/")
		if r.Method != http.MethodPost || !ok || !domain.ValidName(trigger) {
			next.ServeHTTP(w, r)
			return
		}
		at := time.Now().UTC()
		note := &hookNote{}
		answer := &answerRecorder{ResponseWriter: w}
		next.ServeHTTP(answer, r.WithContext(context.WithValue(r.Context(), hookNoteKey{}, note)))
		if answer.status == 0 || answer.status == http.StatusCreated {
			return
		}
		// Before the answer is complete, so that a read after it lists the
		// delivery.
		if !note.known && !s.triggerExists(context.WithoutCancel(r.Context()), trigger) {
			return // no such trigger (any sender may name one), or none to tell
		}
		d := rememberedDelivery{Time: at, Event: note.event, Delivery: note.delivery, Status: answer.status, Reason: answerReason(answer.body.Bytes())}
		if d.Event == "" {
			d.Event = firstHeader(r.Header, eventHeaders)
		}
		if d.Delivery == "" {
			d.Delivery = firstHeader(r.Header, deliveryHeaders)
		}
		s.hookMemory.add(trigger, d)
	})
}

// triggerExists reports whether the read models hold trigger, once they
// have caught up, bounded, with this server's last write (a trigger just
// saved).
func (s *Server) triggerExists(ctx context.Context, trigger string) bool {
	if s.position != nil {
		if want := s.writes.Last(); want > 0 {
			wait, cancel := context.WithTimeout(ctx, s.cfg.ReadWait)
			err := s.position.WaitFor(wait, want)
			cancel()
			if err != nil {
				return false
			}
		}
	}
	_, err := s.q.Trigger(ctx, trigger)
	return err == nil
}

func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// answerReason is the reason of a delivery's answer (HookAnswer) or the
// detail of a problem.
func answerReason(body []byte) string {
	var a struct{ Reason, Detail string }
	if json.Unmarshal(body, &a) != nil {
		return ""
	}
	if a.Reason != "" {
		return a.Reason
	}
	return a.Detail
}

// answerRecorder notes an answer's status and its first maxAnswerRead
// bytes as they are written.
type answerRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *answerRecorder) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if room := maxAnswerRead - a.body.Len(); room > 0 {
		a.body.Write(p[:min(room, len(p))])
	}
	return a.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer beneath.
func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }
