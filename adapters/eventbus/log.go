package eventbus

import (
	"errors"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/conveyor/conveyor/domain"
)

// conflictsAtInfo is watermill's logger, but a handler's conflict (a lost
// race of optimistic concurrency, which the retry settles) is logged at
// info, as watermill logs a message handled, not at error. A conflict that
// outlives the retries is parked, and the parking says so.
type conflictsAtInfo struct{ watermill.LoggerAdapter }

func (l conflictsAtInfo) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, domain.ErrConflict) {
		l.Info(msg, fields.Add(watermill.LogFields{"err": err}))
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l conflictsAtInfo) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return conflictsAtInfo{l.LoggerAdapter.With(fields)}
}
