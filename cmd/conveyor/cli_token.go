package main

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// tokenHelp says where the client commands find their token.
const tokenHelp = `The API token is --token, else CONVEYOR_TOKEN, else the token of the configuration file
(CONVEYOR_CONFIG, default ~/.config/conveyor/config.yaml: server, token, caCert) when it names this server,
else, for a server on this machine, the admin token the server wrote to its data directory
(CONVEYOR_DATA_DIR, default ./conveyor-data/admin.token).`

// resolveToken is the token a client command sends to server: the flag's,
// else CONVEYOR_TOKEN, else, when the server is on a loopback address, the
// local admin token in the data directory. Empty when there is none.
func resolveToken(flagToken, server string, getenv func(string) string) string {
	if flagToken != "" {
		return flagToken
	}
	if t := strings.TrimSpace(getenv("CONVEYOR_TOKEN")); t != "" {
		return t
	}
	if !loopbackURL(server) {
		return ""
	}
	dir := getenv("CONVEYOR_DATA_DIR")
	if dir == "" {
		dir = "./conveyor-data"
	}
	data, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// loopbackURL reports whether the URL's host is a loopback name or address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
