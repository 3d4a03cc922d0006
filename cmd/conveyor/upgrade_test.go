package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The data directory testdata/datadir-fd12e04.tgz was written by the server
// of commit fd12e04 (the last before runs were indexed by status and due
// time, and before the engine's consumer had one filter subject), with
// --nats-auth=false: a definition "build"; pipelines "ci" (compile, upload),
// "timed" (one step on a driver never seen, 30s timeout) and "idle" (the
// same without a timeout); three runs of "ci" that succeeded; then one run
// of each other pipeline, still running when the server stopped.
const (
	oldTimedRun = "40e53484-25bd-46c5-8100-781f2c1be666"
	oldIdleRun  = "b45953eb-f8c2-4fff-b1c2-7ea8a87205b8"
)

// A server of this version starts on that data directory: its engine's
// consumer has one filter subject from then on; the read models are
// brought to the new layout once, so the running runs are listed from the
// status index and the timed run, long overdue, is found by the timers and
// fails; the old runs read as before; a new run goes through, and nothing
// of the old log starts a run again.
func TestADataDirectoryOfTheLastVersionStarts(t *testing.T) {
	dir := t.TempDir()
	untar(t, filepath.Join("testdata", "datadir-fd12e04.tgz"), dir)
	s := startServer(t, func(c *serverConfig) { c.NATSAuth = false; c.DataDir = dir })

	// The engine's consumers start beside the API: its durable consumer is
	// updated a moment after the server is ready.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		cons, err := s.js.Consumer(context.Background(), "CONVEYOR_EVENTS", engineConsumer)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cons.CachedInfo().Config
		if cfg.FilterSubject == "conveyor.events.>" && len(cfg.FilterSubjects) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine consumer filters %q and %q after 20s, want one filter subject", cfg.FilterSubject, cfg.FilterSubjects)
		}
	}
	if run := s.waitRun(oldTimedRun); run["status"] != "failed" {
		t.Errorf("the overdue run ended %v, want failed", run["status"])
	}
	running := runIDs(s.must(http.StatusOK, "GET", "/runs?status=running", nil))
	if !slices.Equal(running, []string{oldIdleRun}) {
		t.Errorf("running runs %v, want only %s", running, oldIdleRun)
	}
	if succeeded := runIDs(s.must(http.StatusOK, "GET", "/runs?status=succeeded", nil)); len(succeeded) != 3 {
		t.Errorf("succeeded runs %v, want the three of the old server", succeeded)
	}
	if dump := s.dump(); !strings.Contains(dump, "/checkpoints/layout=3\n") || !strings.Contains(dump, "/run-index/status/running/") ||
		!strings.Contains(dump, "/run-ended/00000000000000000004={\"id\":\""+oldTimedRun) {
		t.Errorf("the read models were not brought to layout 3 (the three old ended runs numbered, the overdue one fourth):\n%s", dump)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	compiler, uploader := &plainDriver{name: "compiler", succeed: true}, &plainDriver{name: "uploader", succeed: true}
	t.Cleanup(compiler.run(ctx, t, s.at.NATS))
	t.Cleanup(uploader.run(ctx, t, s.at.NATS))
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-4", "def"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Errorf("a new run ended %v", run["status"])
	}
	time.Sleep(500 * time.Millisecond) // would anything of the old log start a run again, it would by now
	if all := runIDs(s.must(http.StatusOK, "GET", "/runs", nil)); len(all) != 6 {
		t.Errorf("%d runs (%v), want the five of the old server and the new one", len(all), all)
	}
}

func runIDs(page map[string]any) []string {
	var out []string
	items, _ := page["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// untar unpacks a gzipped tar of regular files and directories into dir.
func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o700)
		case tar.TypeReg:
			err = writeFile(path, tr, os.FileMode(h.Mode))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(path string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
