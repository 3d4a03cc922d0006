package domain_test

import (
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

func TestStepsWithoutIDGetTheirDriversName(t *testing.T) {
	p := domain.Pipeline{Steps: []domain.Step{{Driver: "compile"}, {ID: "compile-2", Driver: "lint"}, {Driver: "compile"}, {Driver: "upload"}}}
	var got []string
	for _, s := range p.WithStepIDs().Steps {
		got = append(got, s.ID)
	}
	if diff := cmp.Diff([]string{"compile", "compile-2", "compile-3", "upload"}, got); diff != "" {
		t.Errorf("step ids (-want +got):\n%s", diff)
	}
	if p.Steps[0].ID != "" {
		t.Error("WithStepIDs changed its receiver's steps")
	}
}
