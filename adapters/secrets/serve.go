package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
)

// RequestSubject is where a driver asks for the secrets of the step it
// runs: core NATS request, {RequestSubject}.{driver}; each driver's
// credentials allow only its own, so the subject names who asks.
const RequestSubject = wire.SecretsSubject

// RequestSubjectOf is driver's request subject.
func RequestSubjectOf(driver string) string { return wire.SecretsSubjectOf(driver) }

// RunLoader reads a run as the log has it.
type RunLoader func(ctx context.Context, runID string) (domain.Run, error)

// Serve answers drivers' requests for secrets until stop is called; it
// returns once NATS knows of the responder. The servers of a cluster share
// the work in one queue group. A driver gets the secrets
// its step is granted only while that step's attempt is dispatched to it.
func Serve(ctx context.Context, nc *nats.Conn, v *Vault, load RunLoader) (stop func() error, err error) {
	sub, err := nc.QueueSubscribe(RequestSubject+".*", "conveyor-secrets", func(m *nats.Msg) {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		driver := strings.TrimPrefix(m.Subject, RequestSubject+".")
		values, err := v.granted(rctx, driver, m.Data, load)
		answer := wire.SecretsReply{Secrets: values}
		if err != nil {
			answer = wire.SecretsReply{Error: err.Error()}
		}
		body, _ := json.Marshal(answer)
		_ = m.Respond(body)
	})
	if err != nil {
		return nil, err
	}
	if err := nc.Flush(); err != nil {
		return nil, errors.Join(err, sub.Unsubscribe())
	}
	return sub.Unsubscribe, nil
}

// granted is what driver may have for the step its request names.
func (v *Vault) granted(ctx context.Context, driver string, data []byte, load RunLoader) (map[string]string, error) {
	var req wire.SecretsRequest
	if err := json.Unmarshal(data, &req); err != nil || req.RunID == "" || req.Step == "" {
		return nil, fmt.Errorf("a request names run_id, step and attempt")
	}
	run, err := load(ctx, req.RunID)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", req.RunID, err)
	}
	i := slices.IndexFunc(run.Steps, func(s domain.StepState) bool { return s.ID == req.Step })
	if i < 0 || len(run.Pipeline.Steps) != len(run.Steps) {
		return nil, fmt.Errorf("run %s has no step %s", req.RunID, req.Step)
	}
	s := run.Steps[i]
	if s.Driver != driver || s.Status != domain.StepStatusDispatched || s.Attempt != req.Attempt {
		return nil, fmt.Errorf("step %s of run %s (attempt %d) is not dispatched to driver %s", req.Step, req.RunID, req.Attempt, driver)
	}
	out := map[string]string{}
	for _, name := range run.Pipeline.Steps[i].Secrets {
		value, err := v.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		out[name] = string(value)
	}
	return out, nil
}
