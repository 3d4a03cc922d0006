package secrets_test

import (
	"context"
	"slices"
	"testing"

	"github.com/conveyor/conveyor/domain"
)

// The values a run's log lines are masked against: every secret any step
// of the run is granted, once, and none deleted since; an empty vault says
// so before any run is read.
func TestRunValuesAreTheSecretsOfEveryStep(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	if empty, err := v.Empty(ctx); err != nil || !empty {
		t.Errorf("a new vault: empty %v (%v)", empty, err)
	}
	for name, value := range map[string]string{"a": "value-a", "b": "value-b", "other": "value-other"} {
		if err := v.Put(ctx, name, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	if empty, err := v.Empty(ctx); err != nil || empty {
		t.Errorf("a vault with secrets: empty %v (%v)", empty, err)
	}
	run := domain.Run{Pipeline: domain.Pipeline{Steps: []domain.Step{
		{ID: "one", Secrets: []string{"a", "gone"}}, {ID: "two", Secrets: []string{"b", "a"}}, {ID: "three"}}}}
	got, err := v.RunValues(ctx, run)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"value-a", "value-b"}) {
		t.Errorf("run values %v (%v), want those of a and b", got, err)
	}
	// A run not recorded yet is masked against every value there is.
	if err := v.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	all, err := v.Values(ctx)
	slices.Sort(all)
	if err != nil || !slices.Equal(all, []string{"value-a", "value-other"}) {
		t.Errorf("every value: %v (%v), want those of a and other", all, err)
	}
}
