package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The tests named TestDeploy* read the files of deploy/ as an operator's
// tools would, and check what running them for months needs: the image
// builds from sources alone and runs as a non-root user, every service is
// health-checked and restarted, Conveyor waits for a healthy NATS and etcd,
// and every setting the files give the server is one it has and accepts.

const deployDir = "../../deploy"

// serverEnvNames are the environment variables `conveyor server` reads.
func serverEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	parseServerFlags(nil, func(name string) string { names[name] = true; return "" }, io.Discard)
	if !names["CONVEYOR_ADDR"] {
		t.Fatalf("parseServerFlags read no CONVEYOR_ADDR: %v", names)
	}
	return names
}

// clientEnvNames are the variables of clients and drivers (DESIGN.md),
// which deploy files may name for them.
var clientEnvNames = []string{"CONVEYOR_SERVER_HOST", "CONVEYOR_SERVER_PORT", "CONVEYOR_NATS_URL", "CONVEYOR_TOKEN", "CONVEYOR_CA_CERT"}

// TestEnvNamesDoNotCollide: the server reads no variable of a client or a
// driver, so a shell that exports CONVEYOR_NATS_URL for its drivers still
// starts an embedded server (DESIGN.md §4).
func TestEnvNamesDoNotCollide(t *testing.T) {
	server := serverEnvNames(t)
	for _, n := range clientEnvNames {
		if server[n] {
			t.Errorf("conveyor server reads %s, a client's variable", n)
		}
	}
	for flag, want := range map[string]string{"nats-url": "CONVEYOR_CLUSTER_NATS_URL", "etcd-endpoints": "CONVEYOR_CLUSTER_ETCD_ENDPOINTS", "addr": "CONVEYOR_ADDR"} {
		if got := envName(flag); got != want {
			t.Errorf("--%s reads %s, want %s", flag, got, want)
		}
	}
}

// checkServerConfig checks that args and env, as a deploy file gives them to
// `conveyor server`, name only settings the server has, parse and pass
// its validation, and keep authentication on.
func checkServerConfig(t *testing.T, where string, args []string, env map[string]string) serverConfig {
	t.Helper()
	known := serverEnvNames(t)
	for name := range env {
		if strings.HasPrefix(name, "CONVEYOR_") && !known[name] {
			t.Errorf("%s: %s is not a setting of conveyor server", where, name)
		}
	}
	cfg, err := parseServerFlags(args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Errorf("%s: conveyor server refuses the configuration: %v", where, err)
	}
	if !cfg.Auth || !cfg.NATSAuth {
		t.Errorf("%s: authentication must stay on (auth %v, nats-auth %v)", where, cfg.Auth, cfg.NATSAuth)
	}
	return cfg
}

// TestDeployEnvNames: every CONVEYOR_* name in deploy/ is a setting of the
// server or a client's variable, so a renamed flag cannot leave a file
// behind that silently sets nothing.
func TestDeployEnvNames(t *testing.T) {
	known := serverEnvNames(t)
	for _, n := range clientEnvNames {
		known[n] = true
	}
	// nats/authorization.conf: the event stream, the server's permissions.
	known["CONVEYOR_EVENTS"], known["CONVEYOR_SERVER"] = true, true
	name := regexp.MustCompile(`\bCONVEYOR_[A-Z0-9_]*[A-Z0-9]`)
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range name.FindAllString(string(data), -1) {
			if !known[n] {
				t.Errorf("%s names %s, which neither the server nor a client reads", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dockerIgnored reports whether path (slash-separated, relative to the
// build context) is left out by the patterns of a .dockerignore: the last
// pattern that matches it or a parent decides, `!` re-includes.
func dockerIgnored(patterns []string, path string) bool {
	ignored := false
	for _, p := range patterns {
		include := strings.HasPrefix(p, "!")
		p = strings.Trim(strings.TrimPrefix(p, "!"), "/")
		re := regexp.MustCompile("^" + globRegexp(p) + "(/.*)?$")
		if re.MatchString(path) {
			ignored = !include
		}
	}
	return ignored
}

// globRegexp turns a .dockerignore pattern into a regular expression: `**`
// any number of directories, `*` and `?` within one name.
func globRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		case p[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	return b.String()
}

// readLines is the lines of a file that are neither blank nor comments.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeployDockerignore: the build context (the compose file's) leaves out
// data, binaries and history, and keeps what the build needs.
func TestDeployDockerignore(t *testing.T) {
	context := filepath.Join(deployDir, composeBuild(t).Context)
	patterns := readLines(t, filepath.Join(context, ".dockerignore"))
	for _, path := range []string{"conveyor-data/admin.token", "conveyor-data/etcd/member/snap/db", "cmd/conveyor/conveyor-data/nats/x",
		"bin/conveyor", "conveyor", ".git/HEAD", ".git", "cmd/conveyor/conveyor.test", "cpu.out"} {
		if !dockerIgnored(patterns, path) {
			t.Errorf(".dockerignore sends %s to the build", path)
		}
	}
	for _, path := range []string{"go.mod", "go.sum", "cmd/conveyor/main.go", "sdk/client.go", "domain/doc.go"} {
		if dockerIgnored(patterns, path) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", path)
		}
	}
}

// dockerfile is what the tests need of a Dockerfile: its instructions by
// stage, continuation lines joined.
type dockerfile struct {
	stages [][]instruction
}

type instruction struct{ cmd, args string }

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	var df dockerfile
	var pending string
	for _, l := range readLines(t, path) {
		if cont, ok := strings.CutSuffix(l, `\`); ok {
			pending += cont + " "
			continue
		}
		l, pending = pending+l, ""
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			df.stages = append(df.stages, nil)
		}
		if len(df.stages) == 0 {
			t.Fatalf("%s: %s before FROM", path, in.cmd)
		}
		df.stages[len(df.stages)-1] = append(df.stages[len(df.stages)-1], in)
	}
	return df
}

// last is the arguments of the last instruction cmd of a stage, "" if none.
func last(stage []instruction, cmd string) string {
	out := ""
	for _, in := range stage {
		if in.cmd == cmd {
			out = in.args
		}
	}
	return out
}

// execForm is the words of an exec-form ENTRYPOINT or CMD (a JSON array).
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	if args == "" {
		return nil
	}
	var words []string
	if err := yaml.Unmarshal([]byte(args), &words); err != nil || !strings.HasPrefix(args, "[") {
		t.Errorf("%s %s is not in exec form (a JSON array): signals would go to a shell", what, args)
	}
	return words
}

// TestDeployDockerfile: the image runs as a numeric non-root user that owns
// the data directory CONVEYOR_DATA_DIR names, exposes the API and NATS, and
// starts the server.
func TestDeployDockerfile(t *testing.T) {
	df := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	if len(df.stages) < 2 {
		t.Errorf("the Dockerfile has %d stage(s): build in one, run from a small one", len(df.stages))
	}
	final := df.stages[len(df.stages)-1]
	user, _, _ := strings.Cut(last(final, "USER"), ":")
	if uid, err := strconv.Atoi(user); err != nil || uid == 0 {
		t.Errorf("the final stage's USER is %q: give a numeric user that is not root, so that runAsNonRoot can check it", user)
	}
	env := map[string]string{}
	for _, in := range final {
		if in.cmd == "ENV" {
			k, v, _ := strings.Cut(in.args, "=")
			env[k] = v
		}
	}
	dataDir := env["CONVEYOR_DATA_DIR"]
	if dataDir == "" || !filepath.IsAbs(dataDir) {
		t.Errorf("the image sets CONVEYOR_DATA_DIR to %q: give an absolute directory", dataDir)
	}
	owned := false
	for _, in := range final {
		fields := strings.Fields(in.args)
		if in.cmd == "COPY" && slices.Contains(fields, "--chown="+last(final, "USER")) && fields[len(fields)-1] == dataDir {
			owned = true
		}
	}
	if !owned {
		t.Errorf("no COPY --chown=%s makes the data directory %s the user's", last(final, "USER"), dataDir)
	}
	exposed := strings.Fields(last(final, "EXPOSE"))
	for _, port := range []string{"8080", "4222"} {
		if !slices.Contains(exposed, port) {
			t.Errorf("the image does not expose %s (EXPOSE %v)", port, exposed)
		}
	}
	checkServerConfig(t, "Dockerfile", imageServerArgs(t, nil), env)
}

// imageServerArgs is the arguments of `conveyor server` in a container of
// the image run with args (nil: the image's CMD).
func imageServerArgs(t *testing.T, args []string) []string {
	t.Helper()
	df := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	final := df.stages[len(df.stages)-1]
	if args == nil {
		args = execForm(t, "CMD", last(final, "CMD"))
	}
	command := append(execForm(t, "ENTRYPOINT", last(final, "ENTRYPOINT")), args...)
	if len(command) < 2 || !strings.HasSuffix(command[0], "conveyor") || command[1] != "server" {
		t.Fatalf("the container runs %v, not conveyor server", command)
	}
	return command[2:]
}
