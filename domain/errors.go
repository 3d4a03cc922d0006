package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Match them with errors.Is; package api maps them to HTTP
// statuses (ErrNotFound 404, ErrConflict 409, ErrInUse 409).
var (
	// ErrNotFound: the aggregate does not exist (or was deleted).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the aggregate changed since it was read (a lost race on the
	// expected version) or already exists.
	ErrConflict = errors.New("conflict")
	// ErrInUse: the aggregate cannot be deleted while others refer to it.
	ErrInUse = errors.New("in use")
	// ErrUnavailable: a store the write or read needs does not answer;
	// retrying later may succeed.
	ErrUnavailable = errors.New("unavailable")
	// ErrAlreadyStored: an append was a repeat of one already in the log
	// (the same first event id): nothing new was written.
	ErrAlreadyStored = errors.New("already stored")
	// ErrForeignResult: a driver result came from an identity the step it
	// claims was not dispatched to; it is refused, never recorded.
	ErrForeignResult = errors.New("result from a driver the step was not dispatched to")
)

// ValidationError says which field broke which rule. Field is a location
// such as "name", "steps[1].driver" or "spec/repo"; Rule states the rule in
// words a user can act on.
type ValidationError struct {
	Field string
	Rule  string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Rule
	}
	return e.Field + ": " + e.Rule
}

// ValidationErrors is several ValidationError at once, in the order found.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Invalid returns a *ValidationError for field and rule.
func Invalid(field, rule string) *ValidationError {
	return &ValidationError{Field: field, Rule: rule}
}

// AsValidation returns the validation problems inside err, if any: a single
// *ValidationError becomes a list of one.
func AsValidation(err error) (ValidationErrors, bool) {
	var many ValidationErrors
	if errors.As(err, &many) {
		return many, true
	}
	var one *ValidationError
	if errors.As(err, &one) {
		return ValidationErrors{one}, true
	}
	return nil, false
}

// sentinelError says what happened in its own words and matches one of the
// sentinel errors, so that the words are not followed by the sentinel's.
type sentinelError struct {
	msg      string
	sentinel error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.sentinel }

// NotFound is an error matching ErrNotFound that reads "WHAT not found".
func NotFound(what string) error {
	return &sentinelError{msg: what + " not found", sentinel: ErrNotFound}
}

func notFound(kind, name string) error { return NotFound(fmt.Sprintf("%s %q", kind, name)) }

func alreadyExists(kind, name string) error {
	return &sentinelError{msg: fmt.Sprintf("%s %q already exists", kind, name), sentinel: ErrConflict}
}
