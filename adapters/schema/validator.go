package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/conveyor/conveyor/domain"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaURL is the neutral name every schema is compiled under; it never
// appears in an error.
const schemaURL = "urn:conveyor:schema"

// cacheSize bounds the compiled schemas kept; when full the cache starts
// over.
const cacheSize = 1024

var printer = message.NewPrinter(language.English)

// Validator compiles schemas and validates specs. Safe for concurrent use.
type Validator struct {
	mu    sync.Mutex
	cache map[cacheKey]*compiled
}

// compiled is a schema ready to validate with, and the schemas its dynamic
// references may resolve to, which the cost checks need.
type compiled struct {
	schema  *jsonschema.Schema
	anchors anchors
}

// cacheKey names a compiled schema: the schema's hash and whether format
// is asserted, since the same schema compiles differently with it.
type cacheKey struct {
	sum          [32]byte
	assertFormat bool
}

// New returns a validator with an empty cache.
func New() *Validator { return &Validator{cache: map[cacheKey]*compiled{}} }

// MaxSchemaObjects bounds the JSON objects in a schema. Compiling time grows
// with the schema (BenchmarkCompileProperties prints it up to the bound), so
// the bound keeps one request from holding a core.
const MaxSchemaObjects = 2000

// countObjects counts the objects in v, stopping once it reaches limit.
func countObjects(v any, limit int) int {
	n := 0
	var walk func(any)
	walk = func(v any) {
		if n >= limit {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			n++
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return n
}

// refuse is the loader of every compiler: nothing is loaded.
type refuse struct{}

func (refuse) Load(string) (any, error) {
	return nil, errors.New("$ref to external documents is not allowed")
}

// Compile checks that the schema of def compiles and that validating a
// spec against it cannot take more than MaxValidationWork steps at one
// level of the spec. Errors are domain validation errors on the field
// "schema".
func (v *Validator) Compile(def domain.ResourceDefinition) error {
	c, err := v.compile(def)
	if err != nil {
		return err
	}
	worst, err := newWorstCase(c.anchors, c.schema)
	if err != nil {
		return domain.Invalid("schema", err.Error())
	}
	if work := worst.perLevel(c.schema, MaxValidationWork); work > MaxValidationWork {
		return domain.Invalid("schema", printer.Sprintf("can make validating one spec take more than %d steps "+
			"(subschemas applied to one level of the spec): references and combinators (anyOf, oneOf, allOf, "+
			"if/then/else) that reach the same subschemas multiply the work; share less or nest fewer of them", MaxValidationWork))
	}
	return nil
}

// compile compiles def's schema; "format" is an annotation only (the
// default of draft 2020-12) unless def.FormatAssertion asks to assert it.
func (v *Validator) compile(def domain.ResourceDefinition) (*compiled, error) {
	schema := def.Schema
	key := cacheKey{sum: sha256.Sum256(schema), assertFormat: def.FormatAssertion}
	v.mu.Lock()
	sch, ok := v.cache[key]
	v.mu.Unlock()
	if ok {
		return sch, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, domain.Invalid("schema", "is not valid JSON")
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, domain.Invalid("schema", "must be a JSON object or a boolean")
	}
	if n := countObjects(doc, MaxSchemaObjects+1); n > MaxSchemaObjects {
		return nil, domain.Invalid("schema", fmt.Sprintf("has more than %d objects (subschemas and the like); compiling it would hold a core for seconds", MaxSchemaObjects))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuse{})
	if def.FormatAssertion {
		c.AssertFormat()
	}
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, domain.Invalid("schema", clean(err.Error()))
	}
	root, err := c.Compile(schemaURL)
	if err != nil {
		return nil, compileError(err)
	}
	sch = &compiled{schema: root, anchors: findAnchors(c, doc)}
	v.mu.Lock()
	if len(v.cache) >= cacheSize {
		v.cache = map[cacheKey]*compiled{}
	}
	v.cache[key] = sch
	v.mu.Unlock()
	return sch, nil
}

// Validate checks that doc is a JSON object valid against the schema of
// def. Each violation is a domain.ValidationError on "spec" plus the
// location in the spec, e.g. "spec/repo", with the keyword and what is wrong.
func (v *Validator) Validate(def domain.ResourceDefinition, doc json.RawMessage) error {
	sch, err := v.compile(def)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return domain.Invalid("spec", "is not valid JSON")
	}
	if _, ok := inst.(map[string]any); !ok {
		return domain.Invalid("spec", "must be a JSON object")
	}
	// A definition written before its schema's cost was checked, or a
	// spec of many values, may still need too much work: measured first.
	if !fits(sch.anchors, sch.schema, inst, MaxValidationWork) {
		return domain.Invalid("spec", printer.Sprintf("takes more than %d steps to validate against the schema "+
			"of its definition (subschemas applied to its values); send a smaller spec or simplify the schema", MaxValidationWork))
	}
	err = sch.schema.Validate(inst)
	var verr *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &verr) {
		return domain.Invalid("spec", clean(err.Error()))
	}
	return leaves("spec", verr)
}

// compileError explains why a schema does not compile.
func compileError(err error) error {
	var invalid *jsonschema.SchemaValidationError
	if errors.As(err, &invalid) {
		var verr *jsonschema.ValidationError
		if errors.As(invalid.Err, &verr) {
			return leaves("schema", verr)
		}
	}
	var load *jsonschema.LoadURLError
	if errors.As(err, &load) {
		return domain.Invalid("schema", "$ref to external documents is not allowed")
	}
	msg := clean(err.Error())
	if strings.Contains(msg, "$ref") || strings.Contains(msg, "load") || strings.Contains(msg, "scheme") {
		msg = "$ref to external documents is not allowed: " + msg
	}
	return domain.Invalid("schema", msg)
}

// leaves turns the innermost causes of a validation error into domain
// validation errors on root plus their instance location, sorted by field,
// at most MaxProblems of them and a count of the rest.
func leaves(root string, e *jsonschema.ValidationError) domain.ValidationErrors {
	var out domain.ValidationErrors
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		field := root
		if len(e.InstanceLocation) > 0 {
			field += "/" + strings.Join(e.InstanceLocation, "/")
		}
		rule := clean(e.ErrorKind.LocalizedString(printer))
		// The keyword leads the message, once: some of the library's
		// messages already start with it ("minimum: got 0, want 1").
		if path := e.ErrorKind.KeywordPath(); len(path) > 0 && !strings.HasPrefix(rule, path[len(path)-1]+":") {
			rule = path[len(path)-1] + ": " + rule
		}
		out = append(out, domain.Invalid(field, rule))
	}
	walk(e)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	if len(out) > MaxProblems {
		more := len(out) - MaxProblems
		out = append(out[:MaxProblems:MaxProblems], domain.Invalid(root, printer.Sprintf("%d more problems are not listed", more)))
	}
	return out
}

// MaxProblems bounds the problems one answer lists: a schema whose
// branches all fail can find one problem per branch, tens of thousands
// within MaxValidationWork, and an answer listing all of them helps nobody.
// The rest are counted in one last problem.
const MaxProblems = 50

// clean removes the internal schema URL from a message.
func clean(msg string) string {
	msg = strings.ReplaceAll(msg, schemaURL+"#", "")
	msg = strings.ReplaceAll(msg, schemaURL, "the schema")
	return strings.TrimPrefix(msg, "jsonschema: ")
}
