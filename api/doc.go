// Package api serves Conveyor's REST API with huma v2 (OpenAPI 3.1 at
// /openapi.json) and its streams. It is the one place where errors of the
// domain become HTTP statuses (RFC 9457 problem details). Its handler
// applies a BrowserPolicy before any operation: JSON bodies only, no writes
// from other origins, loopback Host names on a loopback bind, CORS only for
// named origins.
//
// It imports domain, commands and projections of this project, never adapters.
package api
