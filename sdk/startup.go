package sdk

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// A driver may start before its server, or while the server restarts: it
// waits for it instead of giving up. These bound the waits between its
// attempts.
const (
	startRetryFirst = 250 * time.Millisecond
	startRetryMax   = 5 * time.Second
)

// permanentError is a failure that trying again cannot cure (the server
// refused the consumer, or answered something that is not the protocol).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// untilUp calls try until it succeeds, fails for good, or ctx ends,
// waiting longer after each failure and logging it. Failures are passing
// unless permanent says otherwise.
func untilUp[T any](ctx context.Context, log *slog.Logger, what string, try func() (T, error), permanent func(error) bool) (T, error) {
	wait := startRetryFirst
	for {
		v, err := try()
		if err == nil || permanent(err) || ctx.Err() != nil {
			return v, err
		}
		log.Warn(what+" failed; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait = min(2*wait, startRetryMax)
	}
}

// isPermanent reports a permanentError.
func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
