package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/conveyor/conveyor/domain"
)

// MinRunIDPrefix is the shortest start of a Run ID RunsByIDPrefix takes:
// the UI and the CLI show a run's first eight characters, and six is
// where git and docker start taking a prefix.
const MinRunIDPrefix = 6

// RunsByIDPrefix lists a page of the runs the read models keep whose ID
// starts with prefix, in ID order: a run named by the short ID a person
// saw. It reads the runs under that prefix only, so its cost follows the
// runs that match, not the runs there are. Runs the read models let go of
// (see Retention) are not found by a prefix.
func (q *ReadModel) RunsByIDPrefix(ctx context.Context, prefix string, p Page) ([]RunView, string, error) {
	if len(prefix) < MinRunIDPrefix {
		return nil, "", domain.Invalid("idPrefix", fmt.Sprintf("has at least %d characters", MinRunIDPrefix))
	}
	after, err := token(p.Continue)
	if err != nil {
		return nil, "", err
	}
	kvs, more, err := q.store.List(ctx, runKey(prefix), after, p.limit())
	if err != nil {
		return nil, "", err
	}
	out := make([]RunView, 0, len(kvs))
	for _, kv := range kvs {
		r, err := decode[domain.Run](kv)
		if err != nil {
			return nil, "", err
		}
		out = append(out, runView(r))
	}
	if !more || len(kvs) == 0 {
		return out, "", nil
	}
	return out, continueToken(strings.TrimPrefix(kvs[len(kvs)-1].Key, runKey(prefix))), nil
}
