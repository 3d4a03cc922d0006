package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// Empty reports whether no secret was ever set (or all were deleted and
// their markers expired): a cheap question to ask before reading a run to
// find which secrets it is granted.
func (v *Vault) Empty(ctx context.Context) (bool, error) {
	status, err := v.kv.Status(ctx)
	if err != nil {
		return false, err
	}
	return status.Values() == 0, nil
}

// RunValues is the value of every secret a step of run is granted: what a
// driver of the run may print, so what the server masks in its log lines
// (adapters/logmask). A secret deleted since is left out.
func (v *Vault) RunValues(ctx context.Context, run domain.Run) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, step := range run.Pipeline.Steps {
		for _, name := range step.Secrets {
			if seen[name] {
				continue
			}
			seen[name] = true
			value, err := v.Get(ctx, name)
			if errors.Is(err, domain.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", name, err)
			}
			out = append(out, string(value))
		}
	}
	return out, nil
}

// Values is the value of every secret the vault holds: what the lines of
// a run that is not recorded yet are masked against (logmask.ErrNoRun). A
// secret deleted meanwhile is left out.
func (v *Vault) Values(ctx context.Context) ([]string, error) {
	entries, err := v.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		value, err := v.Get(ctx, e.Name)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", e.Name, err)
		}
		out = append(out, string(value))
	}
	return out, nil
}
