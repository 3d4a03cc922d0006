package execdriver

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// workspaces are the directories of runs on this host: root/{run id}, made
// by a run's first step here and kept for its later steps. Nothing tells a
// driver that a run ended, so a workspace is removed once no step used it
// for ttl (its directory's modification time, set when a step starts and
// ends), and never while a step of this process uses it. Safe for
// concurrent use.
type workspaces struct {
	root string
	ttl  time.Duration
	log  *slog.Logger

	mu sync.Mutex
	// busy counts the steps of each run that use its workspace now.
	busy map[string]int
}

func newWorkspaces(root string, ttl time.Duration, log *slog.Logger) *workspaces {
	return &workspaces{root: root, ttl: ttl, log: log, busy: map[string]int{}}
}

// open makes or reopens the workspace of a run; release ends the step's use
// of it.
func (w *workspaces) open(runID string) (dir string, release func(), err error) {
	if runID == "" || strings.HasPrefix(runID, ".") || !filepath.IsLocal(runID) || strings.ContainsAny(runID, `/\`) {
		return "", nil, fmt.Errorf("run id %q cannot name a directory", runID)
	}
	dir = filepath.Join(w.root, runID)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("workspace: %w", err)
	}
	touch(dir)
	w.busy[runID]++
	return dir, sync.OnceFunc(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		touch(dir)
		if w.busy[runID]--; w.busy[runID] == 0 {
			delete(w.busy, runID)
		}
	}), nil
}

func touch(dir string) {
	now := time.Now()
	_ = os.Chtimes(dir, now, now)
}

// sweep removes the workspaces unused for ttl, and returns their run ids.
func (w *workspaces) sweep(now time.Time) []string {
	entries, err := os.ReadDir(w.root)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < w.ttl {
			continue
		}
		w.mu.Lock()
		if w.busy[e.Name()] == 0 {
			if err := removeAll(filepath.Join(w.root, e.Name())); err != nil {
				w.log.Warn("workspace not removed", "run", e.Name(), "err", err)
			} else {
				removed = append(removed, e.Name())
			}
		}
		w.mu.Unlock()
	}
	w.sweepOutputs(now)
	return removed
}

// outputDir holds the $CONVEYOR_OUTPUT files of running steps, named
// {run id}-{random}.
const outputDir = ".output"

// sweepOutputs removes output files that a driver which did not end its
// steps (it was killed) left behind, once older than ttl.
func (w *workspaces) sweepOutputs(now time.Time) {
	dir := filepath.Join(w.root, outputDir)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, err := e.Info()
		i := strings.LastIndexByte(e.Name(), '-')
		if err != nil || i < 0 || now.Sub(info.ModTime()) < w.ttl {
			continue
		}
		w.mu.Lock()
		if w.busy[e.Name()[:i]] == 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
		w.mu.Unlock()
	}
}

// run sweeps every quarter of ttl (at least every second, at most every
// five minutes) until ctx ends.
func (w *workspaces) run(ctx context.Context) {
	every := min(max(w.ttl/4, time.Second), 5*time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, run := range w.sweep(time.Now()) {
			w.log.Info("workspace removed: no step of its run came for "+w.ttl.String(), "run", run)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// removeAll removes dir, also when a script left directories without write
// permission in it (Go's module cache makes them).
func removeAll(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
