package main

import (
	"fmt"
	"os"
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
