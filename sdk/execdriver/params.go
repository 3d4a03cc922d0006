package execdriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// defaultShell runs a script when the step names no shell: `sh -e -c
// SCRIPT`, which stops at the first command that fails.
const defaultShell = "sh -e"

// params is a step's `with`, as the exec driver reads it.
type params struct {
	// Run is the script.
	Run string `json:"run"`
	// Shell is the program and its arguments, split at spaces; the script
	// follows as `-c SCRIPT`.
	Shell string `json:"shell"`
	// Env holds variables for the script: a string as it is, any other
	// value as its JSON.
	Env map[string]json.RawMessage `json:"env"`
	// Workdir is where the script runs, relative to the run's workspace.
	Workdir string `json:"workdir"`
	// Image, when set, is the image of a container the script runs in
	// (container.go); nil runs it on the host. Present but empty is
	// refused, so that an expression that came out empty does not run on
	// the host a script meant for a container.
	Image *string `json:"image"`
}

// parseParams reads and checks a step's `with`.
func parseParams(with json.RawMessage) (params, error) {
	var p params
	if len(with) == 0 {
		return p, errors.New("with.run is required: the script to run")
	}
	dec := json.NewDecoder(bytes.NewReader(with))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("with: %w (the keys are run, shell, env, workdir, image)", err)
	}
	switch {
	case strings.TrimSpace(p.Run) == "":
		return p, errors.New("with.run is required: the script to run")
	case p.Shell != "" && len(strings.Fields(p.Shell)) == 0:
		return p, errors.New("with.shell is blank")
	case p.Workdir != "" && !filepath.IsLocal(p.Workdir):
		return p, fmt.Errorf("with.workdir %q must be a path inside the workspace (relative, without ..)", p.Workdir)
	}
	if p.Image != nil {
		if err := checkImage(*p.Image); err != nil {
			return p, err
		}
	}
	for name := range p.Env {
		if err := checkEnvName(name); err != nil {
			return p, fmt.Errorf("with.env: %w", err)
		}
	}
	return p, nil
}

// command is the program and arguments that run the script.
func (p params) command() []string {
	shell := p.Shell
	if shell == "" {
		shell = defaultShell
	}
	return append(strings.Fields(shell), "-c", p.Run)
}

// env is with.env as NAME=VALUE entries, in name order.
func (p params) env() []string {
	names := make([]string, 0, len(p.Env))
	for name := range p.Env {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, name+"="+EnvValue(p.Env[name]))
	}
	return out
}

// EnvValue is a JSON value as a variable holds it: a string as it is, any
// other value as its JSON.
func EnvValue(raw json.RawMessage) string {
	value := string(raw)
	_ = json.Unmarshal(raw, &value)
	return value
}
