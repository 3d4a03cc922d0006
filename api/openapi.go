package api

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
)

// A value that breaks a pattern with a description is answered with the
// description alone: the name fields' description is domain.NameRule, the
// words the domain answers a bad name with ("must be 1 to 63 characters
// …"), and clients read "name: " followed by it. Only this package's
// struct tags give patterns a description.
func init() { validation.MsgExpectedBePattern = "%s" }

// tagDescriptions describe the groups of operations; a tag is listed in the
// document once an operation uses it.
var tagDescriptions = map[string]string{
	"health":               "Liveness and readiness of the server.",
	"resource definitions": "Kinds of resources, each with the JSON Schema of its specs.",
	"resources":            "Instances of a definition; a change of one that names a pipeline starts a run.",
	"pipelines":            "Ordered steps, each naming a driver, over one resource type.",
	"runs":                 "Executions caused by resource changes: their steps, logs and causal chain.",
	"audit":                "The event log, the source of truth of every read model.",
	"admin":                "Maintenance: events the consumers of the log set aside.",
	"tokens":               "API tokens and their roles.",
	"drivers":              "What drivers need to connect.",
}

// describeAPI fills in what the OpenAPI document says of the API as a
// whole, and has every operation added to it document its error answers.
func describeAPI(doc *huma.OpenAPI, maxBody int64) {
	doc.Info.Contact = &huma.Contact{Name: "Conveyor", URL: "https://github.com/conveyor/conveyor"}
	doc.Servers = []*huma.Server{{URL: "/", Description: "the server that serves this document"}}
	doc.OnAddOperation = append(doc.OnAddOperation, func(doc *huma.OpenAPI, op *huma.Operation) {
		for _, tag := range op.Tags {
			if !slices.ContainsFunc(doc.Tags, func(t *huma.Tag) bool { return t.Name == tag }) {
				doc.Tags = append(doc.Tags, &huma.Tag{Name: tag, Description: tagDescriptions[tag]})
			}
		}
		documentAnswers(doc, op, maxBody)
	})
}

// documentAnswers adds to op the error answers the server gives it, as the
// layers a request passes through give them (Handler), unless op already
// documents the status:
//
//   - 400: a body that is not JSON; a Conveyor-Position header that is not
//     a log position, on reads of the read models.
//   - 401: no token, or one unknown or revoked (operations that need one).
//   - 403: a token whose role falls short; a Host that is not loopback on a
//     loopback-only server; a write from another site's page.
//   - 404: a name or id in the path that names nothing.
//   - 409: a write that conflicts with the current state.
//   - 413: a body over the limit.
//   - 415: a write or body whose Content-Type is not JSON.
//   - 422: input that breaks a rule: the name rule, a schema, a parameter's
//     bounds.
//   - 503: a dependency away, or read models that did not reach the
//     position the read needs in time.
//
// Failures of the server itself are the "default" answer huma documents.
func documentAnswers(doc *huma.OpenAPI, op *huma.Operation, maxBody int64) {
	problem := doc.Components.Schemas.Schema(reflect.TypeOf(huma.ErrorModel{}), true, "Error")
	add := func(status int, description string) {
		code := strconv.Itoa(status)
		if op.Responses == nil {
			op.Responses = map[string]*huma.Response{}
		}
		if op.Responses[code] == nil {
			op.Responses[code] = &huma.Response{Description: description,
				Content: map[string]*huma.MediaType{"application/problem+json": {Schema: problem}}}
		}
	}
	hasBody := op.RequestBody != nil
	if hasBody || usesReadModels(op.Method, op.Path) {
		add(http.StatusBadRequest, "The body is not JSON, or the header Conveyor-Position is not a log position.")
	}
	if needsToken(op) {
		add(http.StatusUnauthorized, "No bearer token, or one that is unknown or revoked.")
		add(http.StatusForbidden, "The token's role does not allow this operation (see x-conveyor-role), "+
			"or the request's Host or Origin is refused (docs/security.md).")
	} else {
		add(http.StatusForbidden, "The request's Host is refused: a server listening on loopback answers only requests addressed to loopback (docs/security.md).")
	}
	if strings.Contains(op.Path, "{") {
		add(http.StatusNotFound, "Nothing of that name or id exists.")
	}
	if op.Method != http.MethodGet && op.Method != http.MethodHead {
		add(http.StatusConflict, "The write conflicts with the current state (it exists already, it is in use, "+
			"another write came first); nothing was written.")
		add(http.StatusUnsupportedMediaType, "The Content-Type is not JSON.")
	}
	if hasBody {
		add(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is larger than the server's limit (--max-body, %d bytes here).", maxBody))
	}
	if hasBody || slices.ContainsFunc(op.Parameters, checked) {
		add(http.StatusUnprocessableEntity, "The input breaks a rule: each error names the field and the rule; nothing was written.")
	}
	if !exempt(op.Path) {
		add(http.StatusServiceUnavailable, "A dependency does not answer, or the read models did not reach the position the read needs in time; "+
			"nothing was written, and the same request can be sent again after Retry-After.")
	}
}

// needsToken is true of an operation that declares the bearer scheme.
func needsToken(op *huma.Operation) bool {
	return slices.ContainsFunc(op.Security, func(req map[string][]string) bool {
		_, ok := req[securityScheme]
		return ok
	})
}

// checked is true of a parameter whose value can break a rule (422): every
// one but a Run ID, which names a run or nothing (404).
func checked(p *huma.Param) bool {
	return !(p.In == "path" && p.Name == "id" && p.Schema != nil && p.Schema.Type == "string")
}

// patternDescriptionKey is where the document keeps a pattern's description.
const patternDescriptionKey = "x-pattern-description"

// annotatePatterns moves each pattern's description in the document's
// schemas into the extension x-pattern-description: huma writes it as the
// keyword patternDescription, which OpenAPI does not define (linters refuse
// it). Call it after every operation is registered: huma has by then made
// the description the message of a value that breaks the pattern, and the
// message stays.
func annotatePatterns(doc *huma.OpenAPI) {
	var walk func(*huma.Schema)
	walk = func(s *huma.Schema) {
		if s == nil {
			return
		}
		if s.PatternDescription != "" {
			if s.Extensions == nil {
				s.Extensions = map[string]any{}
			}
			s.Extensions[patternDescriptionKey], s.PatternDescription = s.PatternDescription, ""
		}
		walk(s.Items)
		for _, p := range s.Properties {
			walk(p)
		}
	}
	for _, s := range doc.Components.Schemas.Map() {
		walk(s)
	}
}
