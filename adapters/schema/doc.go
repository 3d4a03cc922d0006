// Package schema validates resource specs against the JSON Schemas of their
// definitions, on github.com/santhosh-tekuri/jsonschema/v6. Draft 2020-12
// unless a schema's "$schema" names another. Schemas may not load anything:
// a $ref to another document is refused, so validation never touches the
// network or the file system.
//
// Validation has a bound on its work (MaxValidationWork steps) and on the
// problems it reports (MaxProblems): a schema that could take more at one
// level of a spec is refused when compiled for a definition, and a spec that
// would take more is refused before it is validated.
package schema
