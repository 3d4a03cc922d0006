package api

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// corsMaxAge is how long, in seconds, a browser may keep a preflight answer.
const corsMaxAge = "600"

// corsRequestHeaders are the request headers a browser on an allowed origin
// may send beyond the CORS-safelisted ones.
var corsRequestHeaders = strings.Join([]string{"Authorization", "Content-Type", "If-Match", HeaderPosition}, ", ")

// corsResponseHeaders are the response headers its scripts may read.
var corsResponseHeaders = strings.Join([]string{"ETag", "Location", "Retry-After", HeaderPosition, HeaderRunID}, ", ")

// cors answers cross-origin requests from the origins it allows, and only
// those. The zero set allows none: CORS is off.
type cors map[string]bool

func newCORS(origins []string) cors {
	c := cors{}
	for _, o := range origins {
		if o = origin(o); o != "" {
			c[o] = true
		}
	}
	return c
}

// allows is true of an Origin header naming an allowed origin.
func (c cors) allows(o string) bool {
	o = origin(o)
	return o != "" && c[o]
}

// handle adds the CORS headers for an allowed origin and answers a
// preflight request itself; it reports whether it did. A preflight of an
// origin it does not allow, CORS on or off, is a 403 here, before
// authentication: a browser sends no token with a preflight, and a 401
// would say that one could help.
func (c cors) handle(w http.ResponseWriter, r *http.Request) bool {
	o := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && o != "" && r.Header.Get("Access-Control-Request-Method") != ""
	if len(c) == 0 {
		if preflight {
			writeProblem(w, http.StatusForbidden, "cross-origin requests are refused: the server names no CORS origins (--cors-origin)")
		}
		return preflight
	}
	w.Header().Add("Vary", "Origin")
	if !c.allows(o) {
		if preflight {
			writeProblem(w, http.StatusForbidden, "origin "+o+" is not among the server's CORS origins (--cors-origin)")
		}
		return preflight
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Expose-Headers", corsResponseHeaders)
	if !preflight {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", corsRequestHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}

// sameOrigin is true when o is the origin the request was sent to: its
// scheme (https when it came over TLS) and its Host.
func sameOrigin(r *http.Request, o string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own := origin(scheme + "://" + r.Host)
	return own != "" && own == origin(o)
}

// origin is o as scheme://host[:port], lower case and without a default
// port, or "" when o is not an http(s) origin.
func origin(o string) string {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme != "http" && scheme != "https":
		return ""
	case scheme == "http" && strings.HasSuffix(host, ":80"), scheme == "https" && strings.HasSuffix(host, ":443"):
		host, _, _ = net.SplitHostPort(host)
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return scheme + "://" + host
}
