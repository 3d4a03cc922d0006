package main

import (
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/api"
)

// exposure refuses a listener that others can reach without protection: the
// API (--addr) or the embedded NATS (--nats-listen) bound to an address
// that is not loopback, without TLS for that listener, the API without
// authentication, or the runtime profiles (--debug-addr) anywhere but on
// loopback, unless --insecure says so. Every refusal says how to fix it.
func exposure(c serverConfig) error {
	if c.Insecure {
		return nil
	}
	var errs []error
	for _, l := range openListeners(c) {
		errs = append(errs, fmt.Errorf("--%s %s is not a loopback address: %s "+
			"or, to accept that anyone on the network can use it, pass --insecure", l.flag, l.addr, l.fix))
	}
	if c.Addr != "" && !api.IsLoopback(c.Addr) && !c.Auth {
		errs = append(errs, fmt.Errorf("--addr %s is not a loopback address and --auth=false lets anyone who reaches it do anything: "+
			"keep authentication on or, to accept that, pass --insecure", c.Addr))
	}
	if c.NATSURL == "" && c.NATSListen != "" && !api.IsLoopback(c.NATSListen) && !c.NATSAuth {
		errs = append(errs, fmt.Errorf("--nats-listen %s is not a loopback address and --nats-auth=false lets anyone who reaches it forge results and delete the event log: "+
			"keep NATS authentication on or, to accept that, pass --insecure", c.NATSListen))
	}
	return errors.Join(errs...)
}

// listener is one address the server listens on, named by its flag, and
// how to protect it.
type listener struct{ flag, addr, fix string }

// openListeners are the listeners bound off loopback without TLS.
func openListeners(c serverConfig) []listener {
	var out []listener
	if c.Addr != "" && !api.IsLoopback(c.Addr) && c.TLSCert == "" {
		out = append(out, listener{"addr", c.Addr, "give it TLS (--tls-cert, --tls-key)"})
	}
	if c.NATSURL == "" && c.NATSListen != "" && !api.IsLoopback(c.NATSListen) && c.NATSTLSCert == "" {
		out = append(out, listener{"nats-listen", c.NATSListen, "give it TLS (--nats-tls-cert, --nats-tls-key)"})
	}
	// The profiles have neither TLS nor tokens: heap and goroutine dumps
	// show requests, tokens and secrets in memory.
	if c.DebugAddr != "" && !api.IsLoopback(c.DebugAddr) {
		out = append(out, listener{"debug-addr", c.DebugAddr, "its profiles (heap, goroutines, CPU) answer anyone, " +
			"without TLS or a token, and show what the server holds in memory: keep it on loopback (127.0.0.1:6069)"})
	}
	return out
}
