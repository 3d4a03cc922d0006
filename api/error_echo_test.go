package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestProblemsBounded: whatever a problem is made of, huma's own or ours,
// it repeats a bounded part of the request.
func TestProblemsBounded(t *testing.T) {
	long := strings.Repeat("é", 100000)
	errs := []error{&huma.ErrorDetail{Location: "body", Message: long, Value: long}}
	for range 300 {
		errs = append(errs, errors.New("bad item"))
	}
	m := huma.NewError(400, long, errs...).(*huma.ErrorModel)
	if len(m.Detail) > maxProblemDetail+64 || !strings.HasSuffix(m.Detail, "(200000 bytes in all)") {
		t.Errorf("detail of %d bytes: %.100q", len(m.Detail), m.Detail[len(m.Detail)-40:])
	}
	if len(m.Errors) != maxErrorDetails+1 || m.Errors[maxErrorDetails].Message != "201 more errors are not listed" {
		t.Errorf("%d errors, the last %v", len(m.Errors), m.Errors[len(m.Errors)-1])
	}
	first := m.Errors[0]
	if value, _ := first.Value.(string); len(value) > maxEchoedValue+64 || len(first.Message) > maxDetailMessage+64 {
		t.Errorf("value of %d bytes, message of %d", len(value), len(first.Message))
	}
	if big := echoed(map[string]any{"k": long}); len(big.(string)) > maxEchoedValue+64 {
		t.Errorf("an object quoted back: %d bytes", len(big.(string)))
	}
	if small := echoed(map[string]any{"k": 1}); small.(map[string]any)["k"] != 1 {
		t.Errorf("a small object: %v", small)
	}
}
