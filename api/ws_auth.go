package api

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// A browser cannot set headers on a WebSocket, so a stream's client may
// carry its token in the handshake's subprotocol list instead: it offers
// wsProtocol, which the server selects, and wsBearerPrefix followed by the
// token in unpadded base64url, which the server reads and never echoes. A
// token in the address would end up in logs and histories; this header is
// what the Authorization header is to other requests.
const (
	wsProtocol     = "conveyor.v1"
	wsBearerPrefix = "conveyor.bearer."
)

// subprotocolBearer is the token a WebSocket handshake offers among its
// subprotocols.
func subprotocolBearer(r *http.Request) (string, bool) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "", false
	}
	for _, field := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(field, ",") {
			encoded, ok := strings.CutPrefix(strings.TrimSpace(p), wsBearerPrefix)
			if !ok {
				continue
			}
			secret, err := base64.RawURLEncoding.DecodeString(encoded)
			if err != nil || len(secret) == 0 {
				return "", false
			}
			return string(secret), true
		}
	}
	return "", false
}
