package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

type noResources struct{}

func (noResources) CountResources(context.Context, string) (int, error) { return 0, nil }

func handler(t *testing.T, js jetstream.JetStream, sole bool) *commands.Handler {
	t.Helper()
	store, err := eventstore.New(context.Background(), js, eventstore.Config{SoleWriter: sole})
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store, Schemas: schema.New(), Resources: noResources{}, Now: time.Now, NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func saveDefinition(t *testing.T, h *commands.Handler, schema string) {
	t.Helper()
	_, _, err := h.SaveDefinition(context.Background(), commands.SaveDefinition{
		Definition: domain.ResourceDefinition{Name: "build", Schema: json.RawMessage(schema)}}, commands.CreateOrUpdate)
	if err != nil {
		t.Fatal(err)
	}
}

// create creates a resource of type build and returns the error.
func create(h *commands.Handler, name, pipeline, spec string) error {
	_, err := h.CreateResource(context.Background(), commands.CreateResource{
		Resource: domain.Resource{Name: name, Type: "build", Pipeline: pipeline, Spec: json.RawMessage(spec)}})
	return err
}

const (
	numberN = `{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`
	stringN = `{"type":"object","properties":{"n":{"type":"string"}},"required":["n"]}`
)

// A create checks the definition and pipeline as they are now, though it
// remembers them between creates: after a change by this server (the only
// writer) or by another one (two servers on one log), the next create sees
// the change.
func TestCreatesCheckTheCurrentDefinitionAndPipeline(t *testing.T) {
	for _, tc := range []struct {
		name string
		sole bool
	}{{"the only writer", true}, {"two servers", false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
			h := handler(t, js, tc.sole)
			other := h
			if !tc.sole {
				other = handler(t, js, false)
			}
			saveDefinition(t, h, numberN)
			if err := create(h, "a", "", `{"n":1}`); err != nil {
				t.Fatalf("a valid spec: %v", err)
			}
			saveDefinition(t, other, stringN)
			if _, invalid := domain.AsValidation(create(h, "b", "", `{"n":1}`)); !invalid {
				t.Errorf("a number where the changed schema wants a string: accepted, want a validation error")
			}
			if err := create(h, "c", "", `{"n":"one"}`); err != nil {
				t.Errorf("a spec valid under the changed schema: %v", err)
			}

			_, _, err := other.SavePipeline(context.Background(), commands.SavePipeline{Pipeline: domain.Pipeline{Name: "ci", Resource: "build",
				Steps: []domain.Step{{ID: "compile", Driver: "compiler"}}}}, commands.CreateOnly)
			if err != nil {
				t.Fatal(err)
			}
			if err := create(h, "d", "ci", `{"n":"one"}`); err != nil {
				t.Errorf("naming the pipeline: %v", err)
			}
			if err := other.DeletePipeline(context.Background(), commands.DeletePipeline{Name: "ci"}); err != nil {
				t.Fatal(err)
			}
			err = create(h, "e", "ci", `{"n":"one"}`)
			if _, invalid := domain.AsValidation(err); !invalid || !strings.Contains(err.Error(), `pipeline "ci" does not exist`) {
				t.Errorf("naming the deleted pipeline: %v, want that it does not exist", err)
			}
		})
	}
}
