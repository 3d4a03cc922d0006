package conveyor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/conveyor/conveyor"

// rule says what the packages of one top-level tree may import, as DESIGN.md
// §3 puts it. Packages of the standard library are always allowed; a tree's
// own sub-packages count as itself.
type rule struct {
	tree string
	// own lists the trees of this module it may import.
	own []string
	// thirdParty lists module path prefixes it may import; nil means any.
	thirdParty []string
}

// infrastructure is what the inner packages must never reach, even
// transitively.
var infrastructure = []string{"github.com/nats-io/", "go.etcd.io/", "github.com/ThreeDotsLabs/", "github.com/danielgtaylor/huma"}

var rules = []rule{
	{tree: "domain", own: nil, thirdParty: []string{"github.com/google/uuid"}},
	{tree: "commands", own: []string{"domain"}, thirdParty: []string{"github.com/google/uuid"}},
	// A bounded cache is a data structure, not infrastructure: the inner
	// packages keep their caches in golang-lru's.
	{tree: "projections", own: []string{"domain"}, thirdParty: []string{"github.com/google/uuid", "github.com/hashicorp/golang-lru/v2"}},
	{tree: "engine", own: []string{"domain", "commands", "projections"}, thirdParty: []string{"github.com/google/uuid", "github.com/hashicorp/golang-lru/v2"}},
	{tree: "api", own: []string{"domain", "commands", "projections"}},
	// A driver compiles the sdk: it stays small, with NATS's client and
	// what it needs, and the WebSocket client for streams; never a server.
	{tree: "sdk", own: nil, thirdParty: []string{"github.com/nats-io/nats.go", "github.com/nats-io/nkeys",
		"github.com/nats-io/nuid", "github.com/coder/websocket", "github.com/klauspost/compress"}},
}

// violation is one forbidden import.
type violation struct{ pkg, dep, why string }

// check returns the imports of pkg's dependency list that r forbids.
func check(r rule, pkg string, deps []string) []violation {
	var out []violation
	for _, dep := range deps {
		switch {
		case dep == pkg || !strings.Contains(strings.Split(dep, "/")[0], "."):
			continue // itself, or the standard library
		case strings.HasPrefix(dep, module+"/"):
			tree := strings.Split(strings.TrimPrefix(dep, module+"/"), "/")[0]
			if tree != r.tree && !contains(r.own, tree) {
				out = append(out, violation{pkg, dep, r.tree + " may import of this module only " + strings.Join(r.own, ", ")})
			}
		case r.thirdParty != nil && !hasPrefix(dep, r.thirdParty) && !strings.HasPrefix(dep, "golang.org/x/") && !strings.HasPrefix(dep, "github.com/google/go-cmp"):
			out = append(out, violation{pkg, dep, r.tree + " is pure: no third-party package but " + strings.Join(r.thirdParty, ", ")})
		case r.tree != "api" && r.tree != "sdk" && hasPrefix(dep, infrastructure):
			out = append(out, violation{pkg, dep, r.tree + " must not reach infrastructure (NATS, etcd, watermill, huma)"})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestImportRule checks DESIGN.md §3 with `go list -deps` for every package
// of every tree with rules.
func TestImportRule(t *testing.T) {
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./"+r.tree+"/...").CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list ./%s/...: %v\n%s", r.tree, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			for _, v := range check(r, fields[0], fields[1:]) {
				t.Errorf("%s imports %s: %s", v.pkg, v.dep, v.why)
			}
		}
	}
}

// TestImportRuleCanFail proves the checker reports what it must.
func TestImportRuleCanFail(t *testing.T) {
	cases := []struct {
		tree string
		dep  string
	}{
		{"domain", "go.etcd.io/etcd/client/v3"},
		{"domain", module + "/commands"},
		{"commands", "github.com/nats-io/nats.go"},
		{"projections", module + "/adapters/etcdstore"},
		{"engine", module + "/adapters/protocol"},
		{"api", module + "/adapters/schema"},
		{"sdk", module + "/domain"},
		{"sdk", "github.com/nats-io/nats-server/v2/server"},
		{"sdk", "go.etcd.io/etcd/server/v3/embed"},
	}
	for _, tc := range cases {
		var r rule
		for _, candidate := range rules {
			if candidate.tree == tc.tree {
				r = candidate
			}
		}
		if got := check(r, module+"/"+tc.tree, []string{"fmt", tc.dep}); len(got) == 0 {
			t.Errorf("%s importing %s was not reported", tc.tree, tc.dep)
		}
	}
}

// TestEveryPackageHasDocGo checks that each package directory documents
// itself in a doc.go.
func TestEveryPackageHasDocGo(t *testing.T) {
	for _, top := range []string{"domain", "commands", "projections", "engine", "adapters", "api", "sdk", "cmd"} {
		err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir // programs the tests build, not packages
			}
			entries, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			hasGo := false
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
					hasGo = true
				}
			}
			if _, err := os.Stat(filepath.Join(path, "doc.go")); hasGo && err != nil {
				t.Errorf("%s has Go files but no doc.go", path)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}
