package api

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
)

// BrowserPolicy is what the API accepts from web browsers. A page in a
// developer's browser can send "simple" cross-site requests to a server on
// 127.0.0.1 (a form or text/plain body, no preflight), and a page whose own
// name is rebound to 127.0.0.1 can read the answers (DNS rebinding). The
// policy closes both doors; clients that are not browsers pass it unchanged.
type BrowserPolicy struct {
	// LoopbackOnly says the API listens on loopback addresses only: a
	// request whose Host is not a loopback name or address (localhost,
	// 127.0.0.0/8, ::1, any port) is refused with 403.
	LoopbackOnly bool
	// CORSOrigins are the origins of other sites ("https://ui.example:8443")
	// allowed to call the API from a browser: their preflight requests are
	// answered and their writes pass the Origin rule. Empty: none.
	CORSOrigins []string
}

// Validate reports origins that are not scheme://host[:port].
func (p BrowserPolicy) Validate() error {
	var errs []error
	for _, o := range p.CORSOrigins {
		if o == "*" || o == "null" {
			errs = append(errs, fmt.Errorf("api: CORS origin %q: name each origin allowed, such as https://ui.example", o))
		} else if origin(o) == "" {
			errs = append(errs, fmt.Errorf("api: CORS origin %q is not http(s)://host[:port] (no path, no user)", o))
		}
	}
	return errors.Join(errs...)
}

// browserSafe applies p before next: the Host rule (403), CORS preflight,
// the Origin rule on writes (403), then the body's media type (415). A
// refused request reaches nothing behind it, so it writes nothing.
func browserSafe(p BrowserPolicy, next http.Handler) http.Handler {
	cors := newCORS(p.CORSOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.LoopbackOnly && r.Host != "" && !IsLoopback(r.Host) { // no browser omits Host
			writeProblem(w, http.StatusForbidden, fmt.Sprintf("Host %q is not a loopback name or address: this server listens on loopback only "+
				"and answers requests addressed to localhost, 127.0.0.1 or [::1] (a guard against DNS rebinding)", r.Host))
			return
		}
		if cors.handle(w, r) {
			return
		}
		if o := r.Header.Get("Origin"); o != "" && changesState(r.Method) && !cors.allows(o) && !sameOrigin(r, o) {
			writeProblem(w, http.StatusForbidden, fmt.Sprintf("Origin %q is not this server's origin: writes from other sites are refused "+
				"unless the server names them as CORS origins (--cors-origin)", o))
			return
		}
		if detail := mediaTypeProblem(r); detail != "" {
			writeProblem(w, http.StatusUnsupportedMediaType, detail)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// changesState is true of the methods that may write.
func changesState(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// mediaTypeProblem says why r's body is refused, or "" when it is JSON. A
// body without a Content-Type is read as JSON: a browser cannot send one
// across origins without a preflight, and the Origin rule catches the
// same-site rest. A declared type other than JSON is refused on a request
// with a body or on a write, so a form posted with an empty body is refused too.
func mediaTypeProblem(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" || (r.ContentLength == 0 && !changesState(r.Method)) {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && jsonMediaType(mt) {
		r.Header.Set("Content-Type", mt) // huma looks formats up by exact name
		return ""
	}
	if strings.HasPrefix(r.URL.Path, "/hooks/") {
		return fmt.Sprintf("Content-Type %q is not accepted: a webhook delivery must be JSON; "+
			"choose application/json as the content type in the webhook's settings", ct)
	}
	return fmt.Sprintf("Content-Type %q is not accepted: send the body as JSON with the header Content-Type: application/json "+
		"(application/merge-patch+json and other application/*+json types are JSON too)", ct)
}

func jsonMediaType(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// IsLoopback is true of a host, with or without a port, that is localhost
// or a loopback address (127.0.0.0/8, ::1). An empty host, which listens on
// every interface, and any other name are not loopback.
func IsLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
