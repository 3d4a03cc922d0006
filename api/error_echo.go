package api

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// Bounds on what a problem answer repeats of a request. huma puts the whole
// body in the problem when it cannot parse it (a body nested 100,000 deep
// came back as 200 KB), its validator reports each bad item of a long
// array, and a message may quote a key of any length.
const (
	maxEchoedValue   = 256     // bytes of a value quoted back
	maxDetailMessage = 1 << 10 // bytes of one error's message
	maxProblemDetail = 8 << 10 // bytes of the problem's detail
	// maxErrorDetails is the most errors listed, one more counting the
	// rest; above the 51 a spec's validation lists itself (its 50 and a
	// count), so that count is kept.
	maxErrorDetails = 100
)

// newHumaError is huma's own constructor, which boundedError wraps.
var newHumaError = huma.NewError

// Every problem the API answers, its own and huma's, is made by
// huma.NewError: replacing it once bounds them all.
func init() { huma.NewError = boundedError }

// boundedError is huma's problem, cut to the bounds above.
func boundedError(status int, msg string, errs ...error) huma.StatusError {
	err := newHumaError(status, msg, errs...)
	m, ok := err.(*huma.ErrorModel)
	if !ok {
		return err
	}
	m.Detail = cut(m.Detail, maxProblemDetail)
	if n := len(m.Errors); n > maxErrorDetails {
		m.Errors = append(m.Errors[:maxErrorDetails:maxErrorDetails],
			&huma.ErrorDetail{Location: "body", Message: fmt.Sprintf("%d more errors are not listed", n-maxErrorDetails)})
	}
	for _, d := range m.Errors {
		if d == nil {
			continue
		}
		d.Message = cut(d.Message, maxDetailMessage)
		d.Location = cut(d.Location, maxDetailMessage)
		d.Value = echoed(d.Value)
	}
	return m
}

// echoed is v, or the start of its JSON when that is longer than
// maxEchoedValue.
func echoed(v any) any {
	switch v := v.(type) {
	case nil, bool, float64, int, int64, uint64, json.Number:
		return v
	case string:
		return cut(v, maxEchoedValue)
	}
	raw, err := json.Marshal(v)
	if err != nil || len(raw) <= maxEchoedValue {
		return v
	}
	return cut(string(raw), maxEchoedValue)
}

// cut is s, or its first limit bytes (whole characters) and how long it was.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := limit
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:end], len(s))
}
