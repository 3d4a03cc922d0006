// Package schema validates resource specs against the JSON Schemas of their
// definitions, on github.com/santhosh-tekuri/jsonschema/v6. Draft 2020-12
// unless a schema's "$schema" names another. Schemas may not load anything:
// a $ref to another document is refused, so validation never touches the
// network or the file system.
package schema
