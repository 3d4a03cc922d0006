package main

import (
	"io"
	"strings"
	"testing"
)

func TestExposure(t *testing.T) {
	base := serverConfig{Addr: "127.0.0.1:8080", NATSListen: "127.0.0.1:4222", Auth: true, NATSAuth: true}
	cases := []struct {
		name   string
		change func(*serverConfig)
		refuse []string // flags named in the error; none: starts
	}{
		{"loopback", func(*serverConfig) {}, nil},
		{"localhost and ::1", func(c *serverConfig) { c.Addr, c.NATSListen = "localhost:8080", "[::1]:4222" }, nil},
		{"API on every interface", func(c *serverConfig) { c.Addr = ":8080" }, []string{"--addr :8080"}},
		{"API with TLS", func(c *serverConfig) { c.Addr, c.TLSCert = "0.0.0.0:8080", "c.pem" }, nil},
		{"NATS off loopback", func(c *serverConfig) { c.NATSListen = "10.0.0.5:4222" }, []string{"--nats-listen 10.0.0.5:4222"}},
		{"NATS with TLS", func(c *serverConfig) { c.NATSListen, c.NATSTLSCert = "0.0.0.0:4222", "c.pem" }, nil},
		{"NATS not embedded", func(c *serverConfig) { c.NATSListen, c.NATSURL = "0.0.0.0:4222", "nats://nats:4222" }, nil},
		{"both", func(c *serverConfig) { c.Addr, c.NATSListen = "[::]:8080", "0.0.0.0:4222" }, []string{"--addr [::]:8080", "--nats-listen"}},
		{"API with TLS, authentication off", func(c *serverConfig) { c.Addr, c.TLSCert, c.Auth = "0.0.0.0:8080", "c.pem", false }, []string{"--addr 0.0.0.0:8080", "--auth=false"}},
		{"NATS with TLS, open", func(c *serverConfig) { c.NATSListen, c.NATSTLSCert, c.NATSAuth = "0.0.0.0:4222", "c.pem", false }, []string{"--nats-listen 0.0.0.0:4222", "--nats-auth=false"}},
		{"loopback, authentication off", func(c *serverConfig) { c.Auth = false }, nil},
		{"both, insecure", func(c *serverConfig) { c.Addr, c.NATSListen, c.Insecure = "[::]:8080", "0.0.0.0:4222", true }, nil},
		{"profiles on loopback", func(c *serverConfig) { c.DebugAddr = "127.0.0.1:6069" }, nil},
		{"profiles on every interface", func(c *serverConfig) { c.DebugAddr = "0.0.0.0:6069" }, []string{"--debug-addr 0.0.0.0:6069"}},
		{"profiles with an empty host", func(c *serverConfig) { c.DebugAddr = ":6069" }, []string{"--debug-addr :6069"}},
		{"profiles off loopback, API with TLS", func(c *serverConfig) { c.DebugAddr, c.TLSCert = "10.0.0.5:6069", "c.pem" }, []string{"--debug-addr 10.0.0.5:6069"}},
		{"profiles off loopback, insecure", func(c *serverConfig) { c.DebugAddr, c.Insecure = "0.0.0.0:6069", true }, nil},
	}
	for _, c := range cases {
		cfg := base
		c.change(&cfg)
		err := exposure(cfg)
		if (err != nil) != (len(c.refuse) > 0) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, flag := range c.refuse {
			if !strings.Contains(err.Error(), flag) || !strings.Contains(err.Error(), "--insecure") {
				t.Errorf("%s: %v does not name %s and --insecure", c.name, err, flag)
			}
		}
	}
}

func TestSecurityFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"CONVEYOR_INSECURE": "true", "CONVEYOR_ADDR": "0.0.0.0:8080",
		"CONVEYOR_CORS_ORIGIN": "https://ui.example, http://localhost:3000",
		"CONVEYOR_TLS_CERT":    "c.pem", "CONVEYOR_TLS_KEY": "k.pem",
	}
	cfg, err := parseServerFlags(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Insecure || cfg.TLSCert != "c.pem" || cfg.TLSKey != "k.pem" || strings.Join(cfg.CORSOrigins, " ") != "https://ui.example http://localhost:3000" {
		t.Errorf("%+v", cfg)
	}
	for _, bad := range [][]string{{"--cors-origin", "*"}, {"--tls-cert", "c.pem"}, {"--nats-tls-key", "k.pem"}} {
		if _, err := parseServerFlags(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	env["CONVEYOR_INSECURE"] = "maybe"
	if _, err := parseServerFlags(nil, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "CONVEYOR_INSECURE") {
		t.Errorf("CONVEYOR_INSECURE=maybe: %v", err)
	}
}
