package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// A delivery is one webhook request to a trigger. Its aggregate,
// delivery/{trigger}/{id of its TriggerFired, derived from the delivery
// id}, holds one TriggerFired at most: the delivery id makes the intake
// idempotent for as long as the log keeps it.

// AggregateDelivery is the aggregate kind of deliveries.
const AggregateDelivery = "delivery"

// ActorTrigger is the actor kind of the events a delivery causes; the
// actor's name is the trigger's.
const ActorTrigger = "trigger"

// ErrUnauthenticated: a delivery's signature is missing or does not match
// the trigger's secret. Nothing is written.
var ErrUnauthenticated = errors.New("the delivery is not signed with the trigger's secret")

// TypeTriggerFired is the event of a delivery that wrote a resource.
const TypeTriggerFired = "TriggerFired.v1"

// TriggerFired: a delivery was taken and wrote Resource. It keeps of the
// delivery only what the trigger's expressions produced (the resource) and
// the commit and ref the body named. Its correlation id is the Run ID of
// the resource write, whose causation id is this event's id.
type TriggerFired struct {
	Meta
	Trigger  string   `json:"trigger"`
	Source   string   `json:"source"`
	Event    string   `json:"event"`
	Delivery string   `json:"delivery"`
	Commit   string   `json:"commit,omitempty"`
	Ref      string   `json:"ref,omitempty"`
	Resource Resource `json:"resource"`
	// Report is where the run is reported, when the trigger reports.
	Report *StatusTarget `json:"report,omitempty"`
}

func init() {
	register(TypeTriggerFired, func() Event { return &TriggerFired{} })
}

// Delivery is a webhook request as the domain sees it: each header's first
// value by its lower-case name, and the body as sent.
type Delivery struct {
	Headers map[string]string
	Body    []byte
}

// Authenticate checks the delivery's signature against secret, as the
// trigger's source signs: GitHub and Gitea an HMAC-SHA256 of the body in
// X-Hub-Signature-256 (sha256=HEX), GitLab the secret itself in
// X-Gitlab-Token, a generic sender an HMAC-SHA256 in hex in the header the
// trigger names. Every comparison takes constant time. An insecure trigger
// takes every delivery. The error matches ErrUnauthenticated.
func (t Trigger) Authenticate(d Delivery, secret []byte) error {
	if t.Insecure {
		return nil
	}
	ok := false
	switch t.Source {
	case SourceGitHub, SourceGitea:
		sig, found := strings.CutPrefix(d.Headers["x-hub-signature-256"], "sha256=")
		if !found && t.Source == SourceGitea {
			sig, found = d.Headers["x-gitea-signature"], true
		}
		ok = found && validMAC(secret, d.Body, sig)
	case SourceGitLab:
		token := d.Headers["x-gitlab-token"]
		ok = token != "" && subtle.ConstantTimeCompare([]byte(token), secret) == 1
	case SourceGeneric:
		ok = validMAC(secret, d.Body, strings.TrimPrefix(d.Headers[strings.ToLower(t.SignatureHeader)], "sha256="))
	}
	if !ok {
		return ErrUnauthenticated
	}
	return nil
}

// validMAC reports whether sigHex is the HMAC-SHA256 of body under key.
func validMAC(key, body []byte, sigHex string) bool {
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != sha256.Size || len(key) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), sig)
}

// gitlabEvents maps GitLab's X-Gitlab-Event to the trigger's event names.
var gitlabEvents = map[string]string{"Push Hook": EventPush, "Tag Push Hook": EventTag, "Merge Request Hook": EventMergeRequest}

// EventOf is the trigger's name for the delivery's event: GitHub's
// X-GitHub-Event and Gitea's X-Gitea-Event as they are, but a push of a tag
// (a ref under refs/tags/) is a tag; GitLab's X-Gitlab-Event mapped (Push
// Hook is push, Tag Push Hook tag, Merge Request Hook merge_request); a
// generic sender's event header, or push when the trigger names none.
// body is the delivery's decoded JSON.
func (t Trigger) EventOf(d Delivery, body any) string {
	var event string
	switch t.Source {
	case SourceGitHub:
		event = d.Headers["x-github-event"]
	case SourceGitea:
		event = d.Headers["x-gitea-event"]
	case SourceGitLab:
		h := d.Headers["x-gitlab-event"]
		if e, ok := gitlabEvents[h]; ok {
			return e
		}
		return strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(h, " Hook")), " ", "_")
	case SourceGeneric:
		if t.EventHeader == "" {
			return EventPush
		}
		return d.Headers[strings.ToLower(t.EventHeader)]
	}
	if event == EventPush && strings.HasPrefix(stringAt(body, "ref"), "refs/tags/") {
		return EventTag
	}
	return event
}

// Takes reports whether the trigger takes event.
func (t Trigger) Takes(event string) bool { return slices.Contains(t.Events, event) }

// DeliveryIDOf is the delivery's id: X-GitHub-Delivery, X-Gitea-Delivery,
// X-Gitlab-Event-UUID, or a generic trigger's delivery header; a generic
// trigger that names none uses the SHA-256 of the body, so that the same
// body is taken once. "" when the header is missing.
func (t Trigger) DeliveryIDOf(d Delivery) string {
	switch t.Source {
	case SourceGitHub:
		return d.Headers["x-github-delivery"]
	case SourceGitea:
		return d.Headers["x-gitea-delivery"]
	case SourceGitLab:
		return d.Headers["x-gitlab-event-uuid"]
	}
	if t.DeliveryHeader != "" {
		return d.Headers[strings.ToLower(t.DeliveryHeader)]
	}
	sum := sha256.Sum256(d.Body)
	return hex.EncodeToString(sum[:])
}

// DeliveryHeaderOf names the header a delivery's id is read from, for the
// message that says it is missing.
func (t Trigger) DeliveryHeaderOf() string {
	switch t.Source {
	case SourceGitHub:
		return "X-GitHub-Delivery"
	case SourceGitea:
		return "X-Gitea-Delivery"
	case SourceGitLab:
		return "X-Gitlab-Event-UUID"
	}
	return t.DeliveryHeader
}

// CommitAndRef are the commit and the ref a delivery's body names, where
// the git hosts put them: a pull or merge request's head, else a push's
// checkout_sha or after, and ref. Either may be "".
func CommitAndRef(body any) (commit, ref string) {
	commit = firstString(body, []string{"pull_request", "head", "sha"}, []string{"object_attributes", "last_commit", "id"},
		[]string{"checkout_sha"}, []string{"after"})
	ref = firstString(body, []string{"pull_request", "head", "ref"}, []string{"object_attributes", "source_branch"}, []string{"ref"})
	return commit, ref
}

func firstString(body any, paths ...[]string) string {
	for _, p := range paths {
		if s := stringAt(body, p...); s != "" {
			return s
		}
	}
	return ""
}

// stringAt is the string at path in decoded JSON, or "".
func stringAt(v any, path ...string) string {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[key]
	}
	s, _ := v.(string)
	return s
}

// deliveryIDs is the namespace of the ids of the events a delivery writes.
var deliveryIDs = uuid.MustParse("9d3f1c52-4b8e-4f0a-8c71-6a2e5b9d0f13")

// DeliveryKey is the aggregate id of the delivery id of trigger: the id is
// the sender's and may hold anything, so the key holds the id of the
// delivery's TriggerFired, derived from it (see FiredKey).
func DeliveryKey(trigger, deliveryID string) string {
	return FiredKey(trigger, FiredEventID(trigger, deliveryID))
}

// FiredKey is the aggregate id of the delivery whose TriggerFired has the
// id firedID: what leads from a resource change a trigger caused (its
// actor names the trigger, its causation id the event) to the delivery.
func FiredKey(trigger, firedID string) string { return trigger + "/" + firedID }

// FiredEventID is the id of the TriggerFired of a delivery, and
// ResourceEventID the id of the resource write it causes: derived from the
// delivery, so that the log recognises a repeat.
func FiredEventID(trigger, deliveryID string) string {
	return uuid.NewSHA1(deliveryIDs, []byte(trigger+"/"+deliveryID)).String()
}

// ResourceEventID is the id of the resource event the TriggerFired firedID
// causes.
func ResourceEventID(firedID string) string {
	return uuid.NewSHA1(deliveryIDs, []byte(firedID+"/resource")).String()
}

// DeliveryAggregate is one delivery to a trigger: fired once at most.
type DeliveryAggregate struct {
	fired   *TriggerFired
	version uint64
	changes []Event
}

// Fired is the delivery's TriggerFired, when it fired.
func (a *DeliveryAggregate) Fired() (*TriggerFired, bool) { return a.fired, a.fired != nil }

// Changes are the events recorded since the aggregate was loaded.
func (a *DeliveryAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *DeliveryAggregate) Apply(e Event) {
	if f, ok := e.(*TriggerFired); ok {
		a.fired = f
	}
	a.version = e.EventMeta().Version
}

// Fire records that the delivery f describes wrote its resource; a
// delivery fires once.
func (a *DeliveryAggregate) Fire(f TriggerFired, c Cause) error {
	if a.fired != nil {
		return alreadyExists("delivery", f.Delivery)
	}
	f.Meta = c.meta(TypeTriggerFired, AggregateDelivery, DeliveryKey(f.Trigger, f.Delivery), a.version+1)
	a.fired = &f
	a.changes = append(a.changes, &f)
	a.version++
	return nil
}

// secretHeaders are headers a trigger's expressions never see: they carry
// the secret or a proof of it, which must not reach a resource or the log.
var secretHeaders = []string{"x-gitlab-token", "x-hub-signature", "x-hub-signature-256", "x-gitea-signature", "x-gogs-signature",
	"authorization", "cookie"}

// InputOf is what the trigger's expressions see of a delivery: its headers
// but those carrying the secret, its decoded body, and its event.
func (t Trigger) InputOf(d Delivery, body any, event string) HookInput {
	headers := make(map[string]any, len(d.Headers))
	for k, v := range d.Headers {
		if !slices.Contains(secretHeaders, k) && k != strings.ToLower(t.SignatureHeader) {
			headers[k] = v
		}
	}
	return HookInput{"headers": headers, "body": body, "event": event}
}
