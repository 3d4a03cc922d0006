package domain_test

import (
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// TestStartByRecordsWhoChangedTheResource: a run started by a token's
// change records that token on RunStarted, and the run rebuilt from its
// events names it; Start records no one.
func TestStartByRecordsWhoChangedTheResource(t *testing.T) {
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "one", Driver: "d"}}}
	res := domain.Resource{ID: "rid", Name: "app", Type: "build", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	alice := &domain.Actor{Kind: domain.ActorToken, Name: "alice", ID: "t1"}
	var r domain.RunAggregate
	if err := r.StartFrom(alice, nil, "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", "create", p, res, 1, cause("start")); err != nil {
		t.Fatal(err)
	}
	started, ok := r.Changes()[0].(*domain.RunStarted)
	if !ok || started.StartedBy != alice {
		t.Fatalf("recorded %#v, want RunStarted by alice", r.Changes()[0])
	}
	var rebuilt domain.RunAggregate
	for _, e := range r.Changes() {
		rebuilt.Apply(e)
	}
	if diff := cmp.Diff(alice, rebuilt.State().StartedBy); diff != "" {
		t.Errorf("StartedBy of the rebuilt run (-want +got):\n%s", diff)
	}
	if got := run(t).State().StartedBy; got != nil {
		t.Errorf("Start records %v, want no one", got)
	}
}
