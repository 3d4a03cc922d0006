package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// clientConfig is the CLI's configuration file: the server it talks to
// when neither --server nor CONVEYOR_SERVER_HOST/PORT name one, and the
// token it sends to that server (and to no other).
type clientConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	CACert string `json:"caCert"`
}

// clientConfigPath is CONVEYOR_CONFIG, else conveyor/config.yaml in the
// user's configuration directory ($XDG_CONFIG_HOME, ~/.config).
func clientConfigPath(getenv func(string) string) string {
	if p := getenv("CONVEYOR_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "conveyor", "config.yaml")
}

// loadClientConfig reads the configuration file; a missing file is an
// empty configuration.
func loadClientConfig(getenv func(string) string) (clientConfig, error) {
	var c clientConfig
	path := clientConfigPath(getenv)
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	c.Server, c.Token = strings.TrimRight(strings.TrimSpace(c.Server), "/"), strings.TrimSpace(c.Token)
	return c, nil
}

// tokenFor is the file's token when server is the file's server.
func (c clientConfig) tokenFor(server string) string {
	if c.Server == "" || strings.TrimRight(server, "/") != c.Server {
		return ""
	}
	return c.Token
}
