package execdriver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// A step with `with.image` runs its script in a container of that image:
// `ENGINE run --rm --init --name NAME -v WORKSPACE:/workspace -w WORKDIR
// -e VAR... --entrypoint SHELL IMAGE SHELL-ARGS... -c SCRIPT`. The
// variables are passed by name only (-e NAME): their values are in the
// environment of the engine's client, never on its command line, so a
// secret does not show in ps.

// containerWorkspace is where the run's workspace is in a container.
const containerWorkspace = "/workspace"

// ContainerEngineAuto, as Config.ContainerEngine, finds the engine: docker
// when it can run containers, else podman.
const ContainerEngineAuto = "auto"

// autoEngines are the engines tried, in order, with ContainerEngineAuto.
var autoEngines = []string{"docker", "podman"}

const (
	// probeTimeout bounds `ENGINE info`, which tells whether an engine
	// can run containers (a docker client without its daemon cannot).
	probeTimeout = 10 * time.Second
	// reprobeAfter is how long the driver remembers that no engine works
	// before it looks again: a daemon may start after the driver.
	reprobeAfter = time.Minute
	// containerKillTimeout bounds `ENGINE kill NAME` of a stopped step.
	containerKillTimeout = 15 * time.Second
	// maxImage bounds the length of with.image.
	maxImage = 256
)

// containerNotRun is the exit code of `ENGINE run` when the container did
// not run (an image that cannot be pulled, a daemon that failed), as docker
// and podman document it.
const containerNotRun = 125

// errNoEngine is the refusal of a step with an image on a host where no
// engine can run it. The script is never run on the host instead.
var errNoEngine = errors.New("with.image needs docker or podman on the driver's host; neither was found")

// engines finds the container engine the first time a step needs one and
// remembers it. Safe for concurrent use.
type engines struct {
	// named is Config.ContainerEngine: auto, or a program's name or path.
	named string
	log   *slog.Logger

	mu    sync.Mutex
	path  string
	err   error
	until time.Time // when a failure is forgotten
}

// find returns the path of the engine's program, or why there is none.
func (e *engines) find(ctx context.Context) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.path != "" || (e.err != nil && time.Now().Before(e.until)) {
		return e.path, e.err
	}
	candidates := autoEngines
	if e.named != "" && e.named != ContainerEngineAuto {
		candidates = []string{e.named}
	}
	var why []string
	for _, name := range candidates {
		p, err := probe(ctx, name)
		if err == nil {
			e.path, e.err = p, nil
			e.log.Info("container engine for with.image", "engine", p)
			return p, nil
		}
		why = append(why, err.Error())
	}
	if ctx.Err() != nil {
		return "", context.Cause(ctx) // the step ended while looking: nothing learned
	}
	e.err = fmt.Errorf("%w (%s)", errNoEngine, strings.Join(why, "; "))
	e.until = time.Now().Add(reprobeAfter)
	e.log.Warn("no container engine: steps with with.image fail", "err", e.err)
	return "", e.err
}

// probe finds name on PATH and runs `name info`, which fails when the
// engine cannot run containers.
func probe(ctx context.Context, name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: not found", name)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, p, "info")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg == "" || ctx.Err() != nil {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s info: %.200s", name, msg)
	}
	return p, nil
}

// checkImage refuses what cannot be an image reference
// ([host[:port]/]path[:tag][@digest]), before it reaches a command line.
func checkImage(image string) error {
	if image == "" || len(image) > maxImage || strings.HasPrefix(image, "-") {
		return fmt.Errorf("with.image %q is not an image reference (1 to %d characters, not starting with -)", image, maxImage)
	}
	for _, r := range image {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@+[]", r)) {
			return fmt.Errorf("with.image %q is not an image reference: %q is not allowed (letters, digits and . _ - / : @ + [ ])", image, r)
		}
	}
	return nil
}

// container is what a step runs in an image.
type container struct {
	name      string
	image     string
	workspace string // on the host
	workdir   string // relative to the workspace
	// env are the names of the variables passed in; their values are in
	// the environment of the engine's client.
	env     []string
	command []string // the shell, its arguments, -c and the script
}

// newContainer is the container of a step that names an image, and the
// variables of its script (stepVars, with the workspace and output file
// where the container sees them). workspace and output are on the host;
// output is in workspace.
func newContainer(req sdk.Request, p params, workspace, output string) (container, []string, error) {
	if strings.Contains(workspace, ":") {
		return container{}, nil, fmt.Errorf("with.image: the workspace %s has a ':' in its path, which a volume cannot name", workspace)
	}
	vars := stepVars(req, p, containerWorkspace, path.Join(containerWorkspace, filepath.Base(output)))
	return container{name: containerName(req), image: *p.Image, workspace: workspace, workdir: p.Workdir,
		env: containerEnv(req, vars), command: p.command()}, vars, nil
}

// args are the engine's arguments that run the container.
func (c container) args() []string {
	args := []string{"run", "--rm", "--init", "--name", c.name,
		"-v", c.workspace + ":" + containerWorkspace, "-w", path.Join(containerWorkspace, filepath.ToSlash(c.workdir))}
	for _, name := range c.env {
		args = append(args, "-e", name)
	}
	// The shell is the entrypoint, so an image's own entrypoint does not
	// receive the script as its arguments.
	args = append(args, "--entrypoint", c.command[0], c.image)
	return append(args, c.command[1:]...)
}

// containerName names a step's container: its run, step and attempt, and
// a random suffix, so that an attempt given again while its first
// container still runs does not clash with it.
func containerName(req sdk.Request) string {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
				return r
			}
			return '-'
		}, s)
		return s[:min(len(s), 64)]
	}
	return "conveyor-" + clean(req.RunID) + "-" + clean(req.Step) + "-" + strconv.Itoa(req.Attempt) + "-" + hex.EncodeToString(suffix[:])
}

// containerEnv are the names of the variables a container gets: those
// StepEnv adds to the driver's own, vars, then the step's secrets. The
// driver's own environment (its PATH, HOME) stays on the host: the image
// has its own.
func containerEnv(req sdk.Request, vars []string) []string {
	names := []string{"CONVEYOR_RUN_ID", "CONVEYOR_STEP", "CONVEYOR_ATTEMPT"}
	for _, kv := range vars {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	secrets := make([]string, 0, len(req.Secrets))
	for name := range req.Secrets {
		secrets = append(secrets, EnvName("SECRET_", name))
	}
	sort.Strings(secrets)
	return append(names, secrets...)
}

// killContainer ends a stopped step's container: ending the engine's
// client (the group of the step) does not end the container, which the
// engine's daemon runs. --rm removes it once ended. An error (the
// container ended already) is of no interest.
func killContainer(engine, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), containerKillTimeout)
	defer cancel()
	_ = exec.CommandContext(ctx, engine, "kill", name).Run()
}
