package execdriver

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWorkspacesLiveUntilUnusedForTheirTTL: a run's steps share its
// workspace; a sweep removes it once unused for the TTL, never while a step
// uses it, and also when a script left it without write permission; the
// output files of steps a killed driver left go too.
func TestWorkspacesLiveUntilUnusedForTheirTTL(t *testing.T) {
	w := newWorkspaces(t.TempDir(), time.Hour, slog.New(slog.DiscardHandler))
	dir, release, err := w.open("run-1")
	if err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "pkg", "mod")
	if err := os.MkdirAll(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(locked, "f"), []byte("x"), 0o400); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(locked, 0o500)
	release()
	again, release2, err := w.open("run-1")
	if err != nil || again != dir {
		t.Fatalf("reopened %q, %v; want %q", again, err, dir)
	}
	if removed := w.sweep(time.Now().Add(2 * time.Hour)); len(removed) != 0 {
		t.Errorf("a workspace in use was removed: %v", removed)
	}
	release2()
	if removed := w.sweep(time.Now().Add(30 * time.Minute)); len(removed) != 0 {
		t.Errorf("a workspace used 30 minutes ago was removed: %v", removed)
	}
	outputs := filepath.Join(w.root, outputDir)
	if err := os.MkdirAll(outputs, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"run-1-123", "run-2-456"} {
		if err := os.WriteFile(filepath.Join(outputs, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, release3, _ := w.open("run-2") // a step of run-2 runs: its output stays
	defer release3()
	if diff := cmp.Diff([]string{"run-1"}, w.sweep(time.Now().Add(2*time.Hour))); diff != "" {
		t.Errorf("swept (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the workspace is still there: %v", err)
	}
	if left, _ := os.ReadDir(outputs); len(left) != 1 || left[0].Name() != "run-2-456" {
		t.Errorf("output files after the sweep: %v, want run-2-456 alone", left)
	}
	for _, bad := range []string{"", "..", "../x", "a/b", ".output"} {
		if _, _, err := w.open(bad); err == nil {
			t.Errorf("run id %q named a workspace", bad)
		}
	}
}
