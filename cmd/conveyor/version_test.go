package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionFromBuildInfo: a stamped version wins; else the module's
// version; else "devel" with the commit and whether the tree had changes.
func TestVersionFromBuildInfo(t *testing.T) {
	vcs := func(main string, settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: main}}
		for i := 0; i+1 < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name, stamped string
		info          *debug.BuildInfo
		want          string
	}{
		{"stamped", "v1.2.3", vcs("v0.0.0-x", "vcs.revision", rev), "v1.2.3"},
		{"no build info", "", nil, "devel"},
		{"module version", "", vcs("v0.0.0-20261123100000-0123456789ab+dirty", "vcs.revision", rev), "v0.0.0-20261123100000-0123456789ab+dirty"},
		{"commit", "", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "devel-0123456789ab"},
		{"commit with changes", "", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "devel-0123456789ab+dirty"},
		{"nothing known", "", vcs("(devel)"), "devel"},
	}
	for _, tc := range cases {
		if got := buildVersion(tc.stamped, tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionOfBinary: the binary reports what its build recorded, as
// `go version -m` reads it: the commit where there is one (not in a git
// worktree, which the go command does not read), else "devel", never "dev".
func TestVersionOfBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "conveyor")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "devel"
	if m := regexp.MustCompile(`(?m)^\tmod\t\S+\t(\S+)`).FindSubmatch(meta); m != nil && string(m[1]) != "(devel)" {
		want = string(m[1])
	} else if m := regexp.MustCompile(`(?m)^\tbuild\tvcs.revision=(\w{12})`).FindSubmatch(meta); m != nil {
		want += "-" + string(m[1])
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); !strings.HasPrefix(first, want) {
		t.Errorf("version: %q, want it to start with %q (go version -m:\n%s)", out, want, meta)
	}
}
