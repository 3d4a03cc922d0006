package main

import (
	"runtime/debug"
	"strings"
)

// version is the server's and the CLI's version, shown by `conveyor version`
// and in the API's OpenAPI document. A release stamps it with
// -ldflags "-X main.version=v1.2.3"; unstamped, init sets it from the
// build's module and VCS information, so a server run in a test has it too.
var version = ""

func init() { version = buildVersion(version, readBuildInfo()) }

// buildVersion is stamped when set, else the version the build knows: the
// main module's version (a tag, or a pseudo-version with the commit, which
// Go ends with +dirty for uncommitted changes), else "devel" with the commit
// and "+dirty", else "devel".
func buildVersion(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if info == nil {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	v := "devel"
	if rev := buildSetting(info, "vcs.revision"); rev != "" {
		v += "-" + rev[:min(12, len(rev))]
	}
	if buildSetting(info, "vcs.modified") == "true" {
		v += "+dirty"
	}
	return v
}

// versionDetails is the second line of `conveyor version`: the commit, its
// time, whether the tree had changes, and the Go release; "" when the build
// recorded none of them.
func versionDetails(info *debug.BuildInfo) string {
	if info == nil {
		return ""
	}
	var parts []string
	if rev := buildSetting(info, "vcs.revision"); rev != "" {
		parts = append(parts, "commit "+rev)
	}
	if t := buildSetting(info, "vcs.time"); t != "" {
		parts = append(parts, "committed "+t)
	}
	if buildSetting(info, "vcs.modified") == "true" {
		parts = append(parts, "with uncommitted changes")
	}
	if info.GoVersion != "" {
		parts = append(parts, "built with "+info.GoVersion)
	}
	return strings.Join(parts, ", ")
}

func buildSetting(info *debug.BuildInfo, key string) string {
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// readBuildInfo is the binary's build information, nil when it has none.
func readBuildInfo() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return info
}
