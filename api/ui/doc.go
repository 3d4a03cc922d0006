// Package ui is Conveyor's web UI and its offline API reference, served by
// the binary from embedded files: no CDN, nothing to install. The pages
// are static files (HTML, CSS and an ES module) that read the same REST
// API the CLI does, with the token the user signs in with.
package ui
