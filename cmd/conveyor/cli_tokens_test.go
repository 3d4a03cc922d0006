package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLITokens: with no token given, the CLI on the server's machine uses
// the admin token the server wrote to its data directory; `tokens create`
// prints the new token alone on stdout; a viewer's token cannot write.
func TestCLITokens(t *testing.T) {
	dir := t.TempDir()
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	_, port, _ := strings.Cut(strings.TrimPrefix(server.at.API, "http://"), ":")
	cli := func(env []string, args ...string) (int, string, string) {
		t.Helper()
		return cliRunEnv(t, server, append(withoutEnv(os.Environ(), "CONVEYOR_TOKEN", "CONVEYOR_DATA_DIR"), env...), "", args...)
	}
	if code, _, stderr := cli(nil, "get", "definitions"); code != exitFailed || !strings.Contains(stderr, "authentication required") {
		t.Errorf("without a token: exit %d, %q", code, stderr)
	}
	local := []string{"CONVEYOR_DATA_DIR=" + dir}
	code, stdout, stderr := cli(local, "tokens", "create", "dashboard", "--role", "viewer")
	secret := strings.TrimSpace(stdout)
	if code != exitOK || !strings.HasPrefix(secret, "cvy_") || strings.Contains(secret, " ") {
		t.Fatalf("tokens create: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, _ = cli(local, "tokens", "list"); code != exitOK || !strings.Contains(stdout, "dashboard") || !strings.Contains(stdout, "local-admin") || strings.Contains(stdout, secret) {
		t.Errorf("tokens list: exit %d\n%s", code, stdout)
	}
	viewer := []string{"CONVEYOR_TOKEN=" + secret}
	if code, _, stderr = cli(viewer, "tokens", "create", "mine", "--role", "admin"); code != exitFailed || !strings.Contains(stderr, "needs admin") {
		t.Errorf("a viewer issuing a token: exit %d, %q", code, stderr)
	}
	if code, _, stderr = cli(viewer, "get", "definitions"); code != exitOK {
		t.Errorf("a viewer reading: exit %d, %q", code, stderr)
	}
	// A configuration file names the server and its token; its token goes
	// to that server only.
	conf := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(conf, []byte("server: "+server.at.API+"\ntoken: "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bare := exec.Command(conveyorBinary(t), "get", "definitions")
	bare.Env = append(withoutEnv(os.Environ(), "CONVEYOR_TOKEN", "CONVEYOR_DATA_DIR", "CONVEYOR_SERVER_HOST", "CONVEYOR_SERVER_PORT"), "CONVEYOR_CONFIG="+conf)
	if out, err := bare.CombinedOutput(); err != nil {
		t.Errorf("the server and token of the configuration file: %v\n%s", err, out)
	}
	other := exec.Command(conveyorBinary(t), "get", "definitions", "--server", "http://localhost:"+port)
	other.Env = append(withoutEnv(os.Environ(), "CONVEYOR_TOKEN", "CONVEYOR_DATA_DIR"), "CONVEYOR_CONFIG="+conf)
	if out, err := other.CombinedOutput(); err == nil || !strings.Contains(string(out), "authentication required") {
		t.Errorf("the file's token went to a server the file does not name: %v\n%s", err, out)
	}
	if code, _, _ = cli(local, "tokens", "revoke", "dashboard"); code != exitOK {
		t.Errorf("tokens revoke: exit %d", code)
	}
	if code, _, stderr = cli(viewer, "get", "definitions"); code != exitFailed || !strings.Contains(stderr, "revoked") {
		t.Errorf("a revoked token: exit %d, %q", code, stderr)
	}
}

// withoutEnv is env without the named variables.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, n := range names {
			keep = keep && name != n
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
