package main

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile is what the tests read of deploy/compose.yaml.
type composeFile struct {
	Services map[string]composeService `json:"services"`
	Volumes  map[string]any            `json:"volumes"`
}

type composeService struct {
	Image       string            `json:"image"`
	Build       *composeBuildSpec `json:"build"`
	Command     []string          `json:"command"`
	Environment map[string]string `json:"environment"`
	Volumes     []string          `json:"volumes"`
	Ports       []string          `json:"ports"`
	DependsOn   any               `json:"depends_on"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	Restart string `json:"restart"`
}

type composeBuildSpec struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

// composeVariable is an interpolation of compose: ${NAME}, ${NAME:-default},
// ${NAME:?error}.
var composeVariable = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}`)

// readCompose reads the compose file with every variable replaced by a
// value of the shape a user would give (the passwords: hex).
func readCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data = composeVariable.ReplaceAllFunc(data, func(m []byte) []byte {
		return []byte(strings.ToLower(composeVariable.FindStringSubmatch(string(m))[1]) + "0123456789abcdef")
	})
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// composeBuild is the build of the Conveyor services, the same for all.
func composeBuild(t *testing.T) composeBuildSpec {
	t.Helper()
	var build *composeBuildSpec
	for name, s := range conveyorServices(t, readCompose(t)) {
		if s.Build == nil || (build != nil && *s.Build != *build) {
			t.Fatalf("compose service %s builds %+v, the others %+v", name, s.Build, build)
		}
		build = s.Build
	}
	return *build
}

// conveyorServices are the services that run conveyor server.
func conveyorServices(t *testing.T, c composeFile) map[string]composeService {
	t.Helper()
	out := map[string]composeService{}
	for name, s := range c.Services {
		if s.Build != nil || strings.HasPrefix(s.Image, "conveyor") {
			out[name] = s
		}
	}
	if len(out) == 0 {
		t.Fatal("compose.yaml runs no conveyor server")
	}
	return out
}

// TestDeployCompose: every service is health-checked and restarted; the
// replicas wait for a healthy NATS and etcd, are configured in a way the
// server accepts with authentication on, are published on the host's
// loopback alone, and keep the admin token file on a volume.
func TestDeployCompose(t *testing.T) {
	c := readCompose(t)
	for name, s := range c.Services {
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" {
			t.Errorf("service %s: no health check in exec form (CMD, no shell)", name)
		}
		if !slices.Contains([]string{"always", "unless-stopped", "on-failure"}, s.Restart) {
			t.Errorf("service %s: restart %q: a crashed service stays down", name, s.Restart)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s on every interface of the host: give 127.0.0.1:", name, p)
			}
		}
	}
	for name, s := range conveyorServices(t, c) {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(deployDir, s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("build: %v", err)
			}
			for _, dep := range []string{"nats", "etcd"} {
				// The short form, a list, waits for the start alone.
				deps, _ := s.DependsOn.(map[string]any)
				if cond, _ := deps[dep].(map[string]any); cond["condition"] != "service_healthy" {
					t.Errorf("depends on %s %v: the server exits at once when %s is not up; wait for service_healthy", dep, s.DependsOn, dep)
				}
			}
			if s.Healthcheck != nil {
				if test := s.Healthcheck.Test; len(test) < 3 || !strings.HasSuffix(test[1], "conveyor") || !isCommand(test[2]) {
					t.Errorf("health check %v is not a conveyor command", test)
				}
			}
			cfg := checkServerConfig(t, "compose service "+name, imageServerArgs(t, s.Command), s.Environment)
			if cfg.NATSURL == "" || len(cfg.EtcdEndpoints) == 0 {
				t.Fatalf("embeds NATS or etcd: set CONVEYOR_CLUSTER_NATS_URL and CONVEYOR_CLUSTER_ETCD_ENDPOINTS")
			}
			if u, err := url.Parse(cfg.NATSURL); err != nil || c.Services[u.Hostname()].Image == "" || u.User.Username() != "conveyor" {
				t.Errorf("NATS URL %s: not the user conveyor at a service of the file", cfg.NATSURL)
			}
			if u, err := url.Parse(cfg.EtcdEndpoints[0]); err != nil || c.Services[u.Hostname()].Image == "" {
				t.Errorf("etcd endpoint %s is not a service of the file", cfg.EtcdEndpoints[0])
			}
			if !onNamedVolume(c, s, cfg.AdminTokenFile) {
				t.Errorf("admin token file %q is not on a named volume: the user could not get the token, and it would change at every start", cfg.AdminTokenFile)
			}
		})
	}
}

// onNamedVolume reports whether path is on a named volume of service s.
func onNamedVolume(c composeFile, s composeService, path string) bool {
	for _, v := range s.Volumes {
		source, target, _ := strings.Cut(v, ":")
		target, _, _ = strings.Cut(target, ":")
		if _, named := c.Volumes[source]; named && path != "" && strings.HasPrefix(path, target+"/") {
			return true
		}
	}
	return false
}

// TestDeployComposeNATS: NATS runs JetStream with the users and permissions
// of nats/authorization.conf, gets every password that file asks for, and
// is published on the host's loopback for drivers.
func TestDeployComposeNATS(t *testing.T) {
	nats, ok := readCompose(t).Services["nats"]
	if !ok {
		t.Fatal("compose.yaml has no service nats")
	}
	if !slices.ContainsFunc(nats.Command, func(a string) bool { return a == "--jetstream" || a == "-js" || a == "--js" }) {
		t.Errorf("NATS runs without JetStream: %v", nats.Command)
	}
	i := slices.Index(nats.Command, "--config")
	if i < 0 || i+1 == len(nats.Command) {
		t.Fatalf("NATS runs without a configuration (--config): %v", nats.Command)
	}
	mounted := false
	for _, v := range nats.Volumes {
		source, target, _ := strings.Cut(v, ":")
		target, _, _ = strings.Cut(target, ":")
		if filepath.Clean(filepath.Join(deployDir, source)) == filepath.Join(deployDir, "nats", "authorization.conf") && target == nats.Command[i+1] {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("NATS's --config %s is not nats/authorization.conf mounted: %v", nats.Command[i+1], nats.Volumes)
	}
	for _, name := range authorizationVariables(t) {
		if nats.Environment[name] == "" {
			t.Errorf("nats/authorization.conf needs %s, which the nats service's environment does not give", name)
		}
	}
	if !slices.Contains(nats.Ports, "127.0.0.1:4222:4222") {
		t.Errorf("NATS is not published for drivers on the host at 127.0.0.1:4222: %v", nats.Ports)
	}
}

// isCommand reports whether name is a command of the binary.
func isCommand(name string) bool {
	root, _ := rootCommand(context.Background(), nil, io.Discard, io.Discard)
	cmd, _, err := root.Find([]string{name})
	return err == nil && cmd != root
}
