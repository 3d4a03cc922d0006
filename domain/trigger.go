package domain

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
)

// Triggers let something outside Conveyor start runs: a git host's webhook
// delivery, checked against the trigger's secret, writes a resource the
// trigger describes (see TriggerFired).

// AggregateTrigger is the aggregate kind of triggers; a trigger's stream is
// trigger/{name}.
const AggregateTrigger = "trigger"

// Trigger sources: who sends the deliveries, which says how they are signed
// and where their event and delivery id are.
const (
	SourceGitHub  = "github"
	SourceGitLab  = "gitlab"
	SourceGitea   = "gitea"
	SourceGeneric = "generic"
)

// Trigger event names, as a trigger lists them in Events.
const (
	EventPush         = "push"
	EventTag          = "tag"
	EventPullRequest  = "pull_request"
	EventMergeRequest = "merge_request"
	EventPing         = "ping"
)

// sourceEvents are the events a trigger of each source may take; a generic
// trigger takes any event name its sender puts in its event header.
var sourceEvents = map[string][]string{
	SourceGitHub: {EventPush, EventTag, EventPullRequest, EventPing},
	SourceGitea:  {EventPush, EventTag, EventPullRequest, EventPing},
	SourceGitLab: {EventPush, EventTag, EventMergeRequest},
}

// Trigger says which deliveries it takes and the resource each one writes.
// Version is set by the server ("1" on create, +1 per change).
type Trigger struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Source  string   `json:"source"`
	Events  []string `json:"events,omitempty"`
	// Secret names the secret (PUT /secrets/{name}) deliveries are signed
	// with; empty only when Insecure.
	Secret   string `json:"secret,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	// SignatureHeader, DeliveryHeader and EventHeader name, for a generic
	// trigger, the headers holding the HMAC-SHA256 of the body, the
	// delivery id and the event name.
	SignatureHeader string `json:"signatureHeader,omitempty"`
	DeliveryHeader  string `json:"deliveryHeader,omitempty"`
	EventHeader     string `json:"eventHeader,omitempty"`
	// When is a CEL condition over headers, body and event: a delivery it
	// finds false writes nothing.
	When     string          `json:"when,omitempty"`
	Resource TriggerResource `json:"resource"`
	// Pipeline, when set, is the pipeline the resource names: each
	// delivery starts a run of it.
	Pipeline string `json:"pipeline,omitempty"`
	// Schedule, TimeZone and CatchUp are a schedule trigger's: a cron
	// expression, the IANA time zone it is read in (UTC by default) and
	// what it does after a time when no server ran (CatchUpLatest by
	// default).
	Schedule string `json:"schedule,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	CatchUp  string `json:"catchUp,omitempty"`
	// Report, when set, sends each run the trigger starts back to the git
	// host as a commit status.
	Report *TriggerReport `json:"report,omitempty"`
}

// TriggerResource is the resource a delivery writes: its type, and CEL
// expressions over headers, body and event for its name and each field of
// its spec.
type TriggerResource struct {
	Type string            `json:"type"`
	Name string            `json:"name"`
	Spec map[string]string `json:"spec,omitempty"`
}

// Trigger events.
const (
	TypeTriggerSaved   = "TriggerSaved.v1"
	TypeTriggerDeleted = "TriggerDeleted.v1"
)

// TriggerSaved: a trigger was defined or changed; Trigger is all of it.
type TriggerSaved struct {
	Meta
	Trigger Trigger `json:"trigger"`
}

// TriggerDeleted: a trigger was removed; deliveries to it are refused.
type TriggerDeleted struct {
	Meta
	Name string `json:"name"`
}

func init() {
	register(TypeTriggerSaved, func() Event { return &TriggerSaved{} })
	register(TypeTriggerDeleted, func() Event { return &TriggerDeleted{} })
}

// CheckTrigger checks a trigger's names, source, events and secret. Its
// expressions are checked by CheckTriggerExpressions, the resource type and
// the pipeline by the caller.
func CheckTrigger(t Trigger) error {
	var problems ValidationErrors
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.(*ValidationError))
		}
	}
	add(CheckName("name", t.Name))
	add(CheckName("resource.type", t.Resource.Type))
	if t.Pipeline != "" {
		add(CheckName("pipeline", t.Pipeline))
	}
	checkSchedule(t, add)
	checkReport(t.Report, add)
	if t.Source != SourceSchedule {
		checkDeliveries(t, add)
	}
	for _, h := range [][2]string{{"signatureHeader", t.SignatureHeader}, {"deliveryHeader", t.DeliveryHeader}, {"eventHeader", t.EventHeader}} {
		if h[1] != "" && t.Source != SourceGeneric {
			add(Invalid(h[0], fmt.Sprintf("is for generic triggers only: %s triggers name their own headers, or have none", t.Source)))
		}
	}
	if t.Resource.Name == "" {
		add(Invalid("resource.name", "must be a CEL expression giving the resource's name"))
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// checkDeliveries checks the fields of a trigger that takes deliveries:
// its source, events, secret and headers.
func checkDeliveries(t Trigger, add func(error)) {
	known, sourceKnown := sourceEvents[t.Source]
	if !sourceKnown && t.Source != SourceGeneric {
		add(Invalid("source", fmt.Sprintf("must be github, gitlab, gitea, generic or schedule, not %q", t.Source)))
	}
	if len(t.Events) == 0 {
		add(Invalid("events", "must name at least one event the trigger takes"))
	}
	for i, e := range t.Events {
		field := fmt.Sprintf("events[%d]", i)
		switch {
		case sourceKnown && !slices.Contains(known, e):
			add(Invalid(field, fmt.Sprintf("%s sends no event %q: it may be one of %v", t.Source, e, known)))
		case !sourceKnown:
			add(CheckName(field, e))
		}
	}
	switch {
	case t.Secret == "" && !t.Insecure:
		add(Invalid("secret", "must name the secret deliveries are signed with (conveyor secrets set NAME), unless insecure is true"))
	case t.Secret != "" && t.Insecure:
		add(Invalid("insecure", "must be false when a secret is named: deliveries are then checked against it"))
	case t.Secret != "":
		add(CheckName("secret", t.Secret))
	}
	if t.Source == SourceGeneric && t.SignatureHeader == "" && !t.Insecure {
		add(Invalid("signatureHeader", "must name the header holding the HMAC-SHA256 of the body, in hex, for a generic trigger"))
	}
}

// TriggerAggregate is the Trigger aggregate.
type TriggerAggregate struct {
	state   Trigger
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (a *TriggerAggregate) Version() uint64 { return a.version }

// Exists reports whether the trigger exists.
func (a *TriggerAggregate) Exists() bool { return a.exists }

// State is the current trigger.
func (a *TriggerAggregate) State() Trigger { return a.state }

// Changes are the events recorded since the aggregate was loaded.
func (a *TriggerAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *TriggerAggregate) Apply(e Event) {
	switch e := e.(type) {
	case *TriggerSaved:
		a.state, a.exists = e.Trigger, true
	case *TriggerDeleted:
		a.state, a.exists = Trigger{}, false
	}
	a.version = e.EventMeta().Version
}

func (a *TriggerAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// Save defines the trigger or replaces it, counting its version up. A save
// that changes nothing records nothing.
func (a *TriggerAggregate) Save(t Trigger, c Cause) error {
	if err := CheckTrigger(t); err != nil {
		return err
	}
	if len(t.Resource.Spec) == 0 {
		t.Resource.Spec = nil
	}
	t = withScheduleDefaults(t)
	current, _ := strconv.Atoi(a.state.Version)
	if !a.exists {
		current = 0
	}
	t.Version = a.state.Version
	if a.exists && reflect.DeepEqual(a.state, t) {
		return nil
	}
	t.Version = strconv.Itoa(current + 1)
	a.record(&TriggerSaved{Meta: c.meta(TypeTriggerSaved, AggregateTrigger, t.Name, a.version+1), Trigger: t})
	return nil
}

// Delete removes the trigger.
func (a *TriggerAggregate) Delete(name string, c Cause) error {
	if !a.exists {
		return notFound("trigger", name)
	}
	a.record(&TriggerDeleted{Meta: c.meta(TypeTriggerDeleted, AggregateTrigger, name, a.version+1), Name: name})
	return nil
}
