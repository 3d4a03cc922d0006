package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/conveyor/conveyor/domain"
	"github.com/danielgtaylor/huma/v2"
)

// problem turns an error of the inner packages into an RFC 9457 problem with
// the status DESIGN.md gives it. Unknown errors are logged and answered with
// a 500 that leaks nothing.
func (s *Server) problem(ctx context.Context, err error) error {
	if problems, ok := domain.AsValidation(err); ok {
		details := make([]error, len(problems))
		for i, p := range problems {
			details[i] = &huma.ErrorDetail{Message: p.Rule, Location: location(p.Field)}
		}
		return huma.Error422UnprocessableEntity("validation failed: "+problems.Error(), details...)
	}
	switch {
	case errors.Is(err, domain.ErrUnavailable):
		return unavailableError(err.Error())
	case errors.Is(err, domain.ErrNotFound):
		return huma.Error404NotFound(err.Error())
	case errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrInUse):
		return huma.Error409Conflict(err.Error())
	case errors.Is(err, context.Canceled):
		return huma.NewError(499, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return unavailableError("the event store or the read model did not answer in time")
	}
	s.log.ErrorContext(ctx, "request failed", slog.Any("err", err))
	return huma.Error500InternalServerError("internal error")
}

// location maps a domain field ("name", "steps[1].driver", "spec/repo") to a
// huma error location ("body.name", "body.steps[1].driver", "body.spec.repo").
func location(field string) string {
	if field == "" {
		return "body"
	}
	return "body." + strings.ReplaceAll(field, "/", ".")
}

// retryAfter is what a 503 tells clients to wait, in seconds.
const retryAfter = "2"

// unavailableError is a 503 with Retry-After: a dependency is away, the
// request changed nothing, and the same request can be sent again.
func unavailableError(detail string) error {
	return huma.ErrorWithHeaders(huma.Error503ServiceUnavailable(detail+"; retry later"),
		http.Header{"Retry-After": []string{retryAfter}})
}
