package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clusterEnv returns the external NATS URL (with the credentials of the
// server's NATS user) and etcd endpoints of the cluster-mode test.
func clusterEnv(t *testing.T) (string, string) {
	t.Helper()
	v := clusterVariables(t, "CONVEYOR_TEST_NATS_URL", "CONVEYOR_TEST_ETCD_ENDPOINTS")
	return v[0], v[1]
}

// clusterVariables returns the values of the variables named, which
// `.ci/cluster.sh env` prints. Outside CI the test is skipped when one is
// unset; in CI (CI=true) its absence is a failure.
func clusterVariables(t *testing.T, names ...string) []string {
	t.Helper()
	var values, missing []string
	for _, name := range names {
		values = append(values, os.Getenv(name))
		if values[len(values)-1] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s must be set in CI (.ci/cluster.sh start, then .ci/cluster.sh env)", strings.Join(missing, " and "))
		}
		t.Skipf("cluster mode: set %s (make cluster-up, then eval \"$(.ci/cluster.sh env)\") to run", strings.Join(missing, " and "))
	}
	return values
}

// TestClusterMode runs the binary against a separate NATS server and a
// separate etcd: it embeds nothing, serves the API, and a second replica on
// the same cluster sees the first one's writes.
func TestClusterMode(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	dir := t.TempDir()
	prefix := fmt.Sprintf("/conveyor-test-%d", time.Now().UnixNano())
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e6)
	tokenFile := providedAdminToken(t)
	args := func() []string {
		return []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--nats-url", natsURL,
			"--etcd-endpoints", etcd, "--etcd-prefix", prefix, "--admin-token-file", tokenFile}
	}
	a := startReplica(t, args()...)
	if strings.Contains(a.output(), "embedded=nats") || strings.Contains(a.output(), "embedded=etcd") {
		t.Fatalf("cluster mode embedded a server:\n%s", a.output())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cluster mode wrote into the data dir: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "nats")); err == nil {
		t.Error("cluster mode created an embedded NATS store")
	}
	b := startReplica(t, args()...)

	sa, sb := a.client(t, prefix), b.client(t, prefix)
	def := map[string]any{"name": "build-" + suffix, "schema": buildDefinition["schema"]}
	// A client reads its write on another replica by handing it the
	// write's log position (docs/decisions.md, "Read your writes").
	status, headers, body := send(t, "POST", a.at.API+"/resource-definitions", def)
	if status != http.StatusCreated {
		t.Fatalf("create on replica a: %d %v", status, body)
	}
	sb.must(http.StatusConflict, "POST", "/resource-definitions", def)
	sb.must(http.StatusOK, "GET", "/resource-definitions/build-"+suffix, nil, "Conveyor-Position", headers.Get("Conveyor-Position"))
	r := map[string]any{"name": "app-1", "resource": "build-" + suffix, "spec": map[string]any{"repo": "r", "ref": "x"}}
	if status, headers, body = send(t, "POST", b.at.API+"/resources", r); status != http.StatusCreated {
		t.Fatalf("create on replica b: %d %v", status, body)
	}
	got := sa.must(http.StatusOK, "GET", "/resources/build-"+suffix+"/app-1", nil, "Conveyor-Position", headers.Get("Conveyor-Position"))
	if got["spec"].(map[string]any)["ref"] != "x" {
		t.Errorf("replica a reads %v", got)
	}
	ready := sa.must(http.StatusOK, "GET", "/ready", nil)
	if checks := ready["checks"].(map[string]any); checks["nats"] != "ok" || checks["etcd"] != "ok" {
		t.Errorf("ready %v", ready)
	}
	// A token issued on one replica works on the other; revoked there, it
	// is refused here within a second.
	_, _, issued := send(t, "POST", a.at.API+"/tokens", map[string]any{"name": "ci-" + suffix, "role": "viewer"})
	secret, _ := issued["token"].(string)
	bearer := "Bearer " + secret
	waitStatus(t, b.at.API+"/runs", bearer, http.StatusOK)
	if status, _, body := send(t, "DELETE", b.at.API+"/tokens/ci-"+suffix, nil); status != http.StatusOK {
		t.Fatalf("revoke on replica b: %d %v", status, body)
	}
	waitStatus(t, a.at.API+"/runs", bearer, http.StatusUnauthorized)
	// Clean up what this test wrote, so reruns against the same cluster start clean.
	sa.must(http.StatusNoContent, "DELETE", "/resources/build-"+suffix+"/app-1", nil)
	sa.must(http.StatusNoContent, "DELETE", "/resource-definitions/build-"+suffix, nil)
	a.stop(t)
	b.stop(t)
}

// waitStatus asks url with the Authorization header auth until the answer
// is want, for up to a second.
func waitStatus(t *testing.T, url, auth string, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		status, _, _ := send(t, "GET", url, nil, "Authorization", auth)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d after a second, want %d", url, status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
