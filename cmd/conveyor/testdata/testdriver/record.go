package main

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// execution is one call of Reconcile, as the driver saw it: the crash tests
// count these, not the server's events, to know how often a step really ran.
type execution struct {
	RunID   string    `json:"run_id"`
	Step    string    `json:"step"`
	Attempt int       `json:"attempt"`
	Key     string    `json:"key"`
	PID     int       `json:"pid"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// recorder appends one JSON line per execution to a file (RECORD_FILE);
// several driver processes may share the file, so each line is one write
// in append mode. A recorder without a file records nothing.
type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func newRecorder(path string) (*recorder, error) {
	if path == "" {
		return &recorder{}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &recorder{f: f}, nil
}

func (r *recorder) record(e execution) {
	if r.f == nil {
		return
	}
	line, _ := json.Marshal(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(append(line, '\n'))
}
