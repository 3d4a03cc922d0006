package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"sigs.k8s.io/yaml"

	"github.com/conveyor/conveyor/adapters/protocol"
)

var authorizationConf = filepath.Join(deployDir, "nats", "authorization.conf")

// authorizationVariables are the passwords nats/authorization.conf reads
// from nats-server's environment.
func authorizationVariables(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(authorizationConf)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if before, _, _ := strings.Cut(line, "#"); before != "" {
			for _, m := range regexp.MustCompile(`password: \$([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(before, -1) {
				out = append(out, m[1])
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s reads no password from the environment", authorizationConf)
	}
	return out
}

// TestDeployNATSAuthorization: nats-server accepts nats/authorization.conf
// once its passwords are set, and the driver's permissions there are the
// ones the embedded NATS gives (protocol.DriverPermissions).
func TestDeployNATSAuthorization(t *testing.T) {
	for _, name := range authorizationVariables(t) {
		t.Setenv(name, "0123456789abcdef")
	}
	opts, err := natsserver.ProcessConfigFile(authorizationConf)
	if err != nil {
		t.Fatalf("nats-server refuses %s: %v", authorizationConf, err)
	}
	users := map[string]*natsserver.User{}
	for _, u := range opts.Users {
		users[u.Username] = u
		if u.Password != "0123456789abcdef" {
			t.Errorf("user %s has a password written in the file", u.Username)
		}
	}
	if users["conveyor"] == nil {
		t.Fatalf("no user conveyor for the server: %v", opts.Users)
	}
	driver := users["compiler"]
	if driver == nil || driver.Permissions == nil || driver.Permissions.Publish == nil || driver.Permissions.Subscribe == nil {
		t.Fatalf("the example driver compiler has no permissions: %+v", driver)
	}
	publish, subscribe := protocol.DriverPermissions("compiler", nil)
	if diff := cmp.Diff(publish, driver.Permissions.Publish.Allow); diff != "" {
		t.Errorf("compiler may publish (-embedded NATS +file):\n%s", diff)
	}
	if diff := cmp.Diff(subscribe, driver.Permissions.Subscribe.Allow); diff != "" {
		t.Errorf("compiler may subscribe (-embedded NATS +file):\n%s", diff)
	}
}

// Kubernetes objects, as much as the tests read of them.
type (
	k8sObject struct {
		Kind string `json:"kind"`
		Spec struct {
			Template struct {
				Spec k8sPodSpec `json:"spec"`
			} `json:"template"`
			Ports []struct {
				TargetPort string `json:"targetPort"`
			} `json:"ports"`
		} `json:"spec"`
	}
	k8sPodSpec struct {
		SecurityContext *k8sSecurityContext `json:"securityContext"`
		Containers      []k8sContainer      `json:"containers"`
		Volumes         []struct {
			Name   string `json:"name"`
			Secret *struct {
				SecretName string `json:"secretName"`
			} `json:"secret"`
		} `json:"volumes"`
	}
	k8sSecurityContext struct {
		RunAsNonRoot             *bool `json:"runAsNonRoot"`
		ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
	}
	k8sContainer struct {
		Name            string   `json:"name"`
		ImagePullPolicy string   `json:"imagePullPolicy"`
		Args            []string `json:"args"`
		Env             []struct {
			Name      string `json:"name"`
			Value     string `json:"value"`
			ValueFrom any    `json:"valueFrom"`
		} `json:"env"`
		Ports []struct {
			Name string `json:"name"`
		} `json:"ports"`
		VolumeMounts []struct {
			Name      string `json:"name"`
			MountPath string `json:"mountPath"`
		} `json:"volumeMounts"`
		ReadinessProbe  *k8sProbe           `json:"readinessProbe"`
		LivenessProbe   *k8sProbe           `json:"livenessProbe"`
		SecurityContext *k8sSecurityContext `json:"securityContext"`
		Resources       struct {
			Requests map[string]string `json:"requests"`
			Limits   map[string]string `json:"limits"`
		} `json:"resources"`
	}
	k8sProbe struct {
		HTTPGet *struct {
			Path   string `json:"path"`
			Port   string `json:"port"`
			Scheme string `json:"scheme"`
		} `json:"httpGet"`
	}
)

// kubernetesVariable is a reference to another variable of the container.
var kubernetesVariable = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// TestDeployKubernetes: the Deployment's containers use a locally built
// image, probe /ready and /health with the scheme the API serves, run as
// non-root on a read-only root file system with resources set, take the
// admin token from a Secret, and are configured in a way the server accepts.
func TestDeployKubernetes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", "conveyor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deployments := 0
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var o k8sObject
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("kubernetes/conveyor.yaml: %v", err)
		}
		if o.Kind != "Deployment" {
			continue
		}
		deployments++
		pod := o.Spec.Template.Spec
		for _, c := range pod.Containers {
			t.Run(c.Name, func(t *testing.T) { checkContainer(t, pod, c) })
		}
	}
	if deployments == 0 {
		t.Fatal("kubernetes/conveyor.yaml has no Deployment")
	}
}

func checkContainer(t *testing.T, pod k8sPodSpec, c k8sContainer) {
	if c.ImagePullPolicy != "IfNotPresent" {
		t.Errorf("imagePullPolicy %q: a locally built image needs IfNotPresent", c.ImagePullPolicy)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			v = strings.ToLower(e.Name) + "-from-a-secret"
		}
		env[e.Name] = kubernetesVariable.ReplaceAllStringFunc(v, func(m string) string {
			return env[kubernetesVariable.FindStringSubmatch(m)[1]]
		})
	}
	cfg := checkServerConfig(t, "container "+c.Name, imageServerArgs(t, c.Args), env)
	scheme := "HTTP"
	if cfg.TLSCert != "" {
		scheme = "HTTPS"
	}
	for _, p := range []struct {
		what  string
		probe *k8sProbe
		path  string
	}{{"readiness", c.ReadinessProbe, "/ready"}, {"liveness", c.LivenessProbe, "/health"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe", p.what)
			continue
		}
		get := p.probe.HTTPGet
		if get.Path != p.path || get.Scheme != scheme || !slices.ContainsFunc(c.Ports, func(port struct {
			Name string `json:"name"`
		}) bool {
			return port.Name == get.Port
		}) {
			t.Errorf("%s probe %+v: want GET %s over %s on a port of the container", p.what, *get, p.path, scheme)
		}
	}
	secure := func(get func(*k8sSecurityContext) *bool) bool {
		for _, sc := range []*k8sSecurityContext{c.SecurityContext, pod.SecurityContext} {
			if sc != nil && get(sc) != nil {
				return *get(sc)
			}
		}
		return false
	}
	if !secure(func(sc *k8sSecurityContext) *bool { return sc.RunAsNonRoot }) {
		t.Error("runAsNonRoot is not true")
	}
	if !secure(func(sc *k8sSecurityContext) *bool { return sc.ReadOnlyRootFilesystem }) {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v: request cpu and memory, limit memory", c.Resources)
	}
	for setting, file := range map[string]string{"admin token file": cfg.AdminTokenFile, "TLS certificate": cfg.TLSCert, "TLS key": cfg.TLSKey} {
		if !fromSecret(pod, c, file) {
			t.Errorf("the %s %q is not a file of a Secret mounted into the container", setting, file)
		}
	}
}

// fromSecret reports whether path is in a volume of a Secret mounted into c.
func fromSecret(pod k8sPodSpec, c k8sContainer, path string) bool {
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil && path != "" && strings.HasPrefix(path, m.MountPath+"/") {
				return true
			}
		}
	}
	return false
}

// TestDeploySystemd: the unit runs conveyor server as a user of its own,
// restarts it on failure, confines it, and gives it settings it accepts.
func TestDeploySystemd(t *testing.T) {
	service := map[string][]string{}
	section := ""
	for _, l := range readLines(t, filepath.Join(deployDir, "systemd", "conveyor.service")) {
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok && section == "[Service]" {
			service[k] = append(service[k], v)
		}
	}
	one := func(k string) string { return strings.Join(service[k], " ") }
	if u := one("User"); u == "" || u == "root" || u == "0" {
		t.Errorf("User=%q: give the service a user of its own", u)
	}
	want := map[string]string{"Restart": "on-failure", "NoNewPrivileges": "yes", "DynamicUser": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes"}
	for k, v := range want {
		if one(k) != v {
			t.Errorf("%s=%q, want %s", k, one(k), v)
		}
	}
	if one("CapabilityBoundingSet") != "" || service["CapabilityBoundingSet"] == nil {
		t.Errorf("CapabilityBoundingSet=%q: the server needs no capability", one("CapabilityBoundingSet"))
	}
	env := map[string]string{}
	for _, e := range service["Environment"] {
		k, v, _ := strings.Cut(strings.Trim(e, `"`), "=")
		env[k] = v
	}
	words := strings.Fields(one("ExecStart"))
	if len(words) < 2 || !strings.HasSuffix(words[0], "/conveyor") || words[1] != "server" {
		t.Fatalf("ExecStart=%s does not run conveyor server", one("ExecStart"))
	}
	cfg := checkServerConfig(t, "conveyor.service", words[2:], env)
	if dir := "/var/lib/" + one("StateDirectory"); cfg.DataDir != dir {
		t.Errorf("the data directory %s is not the StateDirectory %s, the one place the service may write", cfg.DataDir, dir)
	}
}
