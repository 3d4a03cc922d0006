package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// runUntilExit runs `conveyor server args...`, which should exit by itself,
// and returns everything it printed and its exit code.
func runUntilExit(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, conveyorBinary(t), append([]string{"server"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if ctx.Err() != nil || (err != nil && !errors.As(err, &exit)) {
		t.Fatalf("conveyor server %v did not exit by itself: %v\n%s", args, err, out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// selfSigned writes a certificate for 127.0.0.1, ::1 and localhost, its own
// CA, and its key; it returns their files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "conveyor test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestOffLoopbackNeedsTLSOrInsecure: a listener off loopback without TLS
// (the runtime profiles of --debug-addr have none) refuses to start and
// says how to fix it; --insecure starts and says so.
func TestOffLoopbackNeedsTLSOrInsecure(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--addr", "0.0.0.0:0", "--nats-listen", "127.0.0.1:0"}, "--addr 0.0.0.0:0"},
		{[]string{"--addr", ":0", "--nats-listen", "127.0.0.1:0"}, "--addr :0"},
		{[]string{"--addr", "127.0.0.1:0", "--nats-listen", "0.0.0.0:0"}, "--nats-listen 0.0.0.0:0"},
		{[]string{"--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--debug-addr", "0.0.0.0:0"}, "--debug-addr 0.0.0.0:0"},
	} {
		out, code := runUntilExit(t, nil, append(c.args, "--data-dir", dir)...)
		if code != 2 || !strings.Contains(out, c.flag+" is not a loopback address") || !strings.Contains(out, "--insecure") {
			t.Errorf("%v: exit %d\n%s", c.args, code, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("a refused start wrote %d entries into the data directory", len(entries))
	}

	p := startBinary(t, []string{"CONVEYOR_INSECURE=true"}, "--addr", "0.0.0.0:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir,
		"--debug-addr", "0.0.0.0:0")
	if out := p.output(); !strings.Contains(out, "insecure=true") {
		t.Errorf("the ready line does not say insecure:\n%s", out)
	}
	if out := p.output(); !strings.Contains(out, "flag=--debug-addr") {
		t.Errorf("no warning about the profiles off loopback:\n%s", out)
	}
	p.stop(t)
}

// TestTLSListeners serves the API over HTTPS and the embedded NATS over TLS
// with a certificate made here, and reaches both, and the CLI, through it.
func TestTLSListeners(t *testing.T) {
	cert, key := selfSigned(t)
	p := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--tls-cert", cert, "--tls-key", key, "--nats-tls-cert", cert, "--nats-tls-key", key)
	if !strings.HasPrefix(p.at.API, "https://") || !strings.HasPrefix(p.at.NATS, "tls://") {
		t.Fatalf("ready at %v", p.at)
	}
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(p.at.API + "/health")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health over https: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(p.at.API, "https://") + "/health"); err == nil && resp.StatusCode == http.StatusOK {
		t.Error("plain http was answered")
	}

	nc, err := nats.Connect(p.at.NATS, nats.RootCAs(cert), nats.Token(p.token), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("nats over tls: %v", err)
	}
	nc.Close()
	if nc, err := nats.Connect(strings.Replace(p.at.NATS, "tls://", "nats://", 1), nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Error("nats without tls was accepted")
	}

	cli := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(conveyorBinary(t), args...)
		cmd.Env = append(append(os.Environ(), "CONVEYOR_TOKEN="+p.token), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cli(nil, "get", "definitions", "--server", p.at.API); err == nil || !strings.Contains(out, "certificate") {
		t.Errorf("the CLI and an unknown certificate: %v\n%s", err, out)
	}
	if out, err := cli(nil, "get", "definitions", "--server", p.at.API, "--ca-cert", cert); err != nil {
		t.Errorf("the CLI with --ca-cert: %v\n%s", err, out)
	}
	if out, err := cli([]string{"CONVEYOR_SERVER_HOST=" + p.at.API, "CONVEYOR_CA_CERT=" + cert}, "get", "definitions"); err != nil {
		t.Errorf("the CLI with CONVEYOR_SERVER_HOST=https://... and CONVEYOR_CA_CERT: %v\n%s", err, out)
	}
	p.stop(t)
}
