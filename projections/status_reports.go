package projections

import (
	"context"

	"github.com/conveyor/conveyor/domain"
)

// runReportsPrefix holds, per run whose commit statuses were not all
// reported, those given up: run-reports/{Run ID}. A key of the run's
// (runKeys), let go of with it.
const runReportsPrefix = "run-reports/"

func runReportsKey(runID string) string { return runReportsPrefix + runID }

// KeptStatusReports bounds the statuses given up a run's read model keeps,
// the latest: a run reports a handful of statuses (its start, its end, and
// again for each retry), so this is only a bound.
const KeptStatusReports = 20

// statusReportFailed adds f to its run's statuses given up, while the read
// models keep the run: one they let go of keeps none (the log has them).
func (c *change) statusReportFailed(ctx context.Context, f *domain.StatusReportFailed) error {
	m := f.EventMeta()
	if run, err := c.lookup(ctx, runKey(m.AggregateID)); err != nil || !run.present {
		return err
	}
	key := runReportsKey(m.AggregateID)
	kv, ok, err := c.get(ctx, key)
	if err != nil {
		return err
	}
	var reports []domain.StatusReport
	if ok {
		stored, err := decodeWith[[]domain.StatusReport](kv, c.b.p.unmarshal)
		if err != nil {
			return err
		}
		if stored.AggregateVersion >= m.Version {
			return nil // applied already
		}
		reports = stored.Value
	}
	reports = append(reports, f.Report())
	if len(reports) > KeptStatusReports {
		reports = reports[len(reports)-KeptStatusReports:]
	}
	c.put(key, encode(reports, m))
	return nil
}

// StatusReports are the commit statuses of run runID that were not
// reported, oldest first; none when all were, or when the read models no
// longer keep the run.
func (q *ReadModel) StatusReports(ctx context.Context, runID string) ([]domain.StatusReport, error) {
	kv, ok, err := q.store.Get(ctx, runReportsKey(runID))
	if err != nil || !ok {
		return nil, err
	}
	r, err := decode[[]domain.StatusReport](kv)
	return r.Value, err
}
