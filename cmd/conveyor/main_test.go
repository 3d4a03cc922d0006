package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// buildDir holds the programs the tests build (the conveyor binary, the
// example drivers, the test driver); it is removed when the tests end.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "conveyor-test-builds-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	builds  = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// built builds the Go program in pkg (a path relative to this package) once
// per test process and returns the path of its binary.
func built(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &buildResult{path: filepath.Join(buildDir, fmt.Sprintf("prog%d-%s", len(builds), filepath.Base(filepath.Clean(pkg))))}
		builds[pkg] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		if out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
