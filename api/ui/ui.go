package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var files embed.FS

// RedocVersion is the version of the vendored API reference renderer
// (static/redoc.standalone.js, from the npm package redoc; see
// static/VENDOR.md and `make ui-vendor`).
const RedocVersion = "2.5.1"

// pageCSP is the Content-Security-Policy of the UI: its own scripts and
// styles only, no frames, no other origin.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// docsCSP is the policy of /docs: the renderer injects its styles and runs
// its search in a worker made from a blob.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
	"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'"

// Register serves the UI at / and /ui/, and the API reference at /docs, on
// mux.
func Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	assets := http.FileServerFS(static)
	mux.Handle("GET /{$}", page("index.html", pageCSP))
	mux.Handle("GET /ui/", secured(pageCSP, http.StripPrefix("/ui/", assets)))
	mux.Handle("GET /docs", page("docs.html", docsCSP))
	mux.Handle("GET /docs/redoc.standalone.js", secured(docsCSP, http.StripPrefix("/docs/", assets)))
}

func page(name, csp string) http.Handler {
	return secured(csp, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := files.ReadFile("static/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(data)
	}))
}

// secured adds the headers every UI answer carries.
func secured(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
