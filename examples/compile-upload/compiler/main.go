// Command compiler is an example driver: the first step of the
// compile-then-upload pipeline. It "compiles" the repository at the ref of a
// build resource and reports the artifact it made.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

type buildSpec struct {
	Repo string `json:"repo"`
	Ref  string `json:"ref"`
}

func compile(ctx context.Context, req sdk.Request) sdk.Result {
	var spec buildSpec
	if err := json.Unmarshal(req.Resource.Spec, &spec); err != nil {
		return sdk.Result{Success: false, Message: "spec is not a build: " + err.Error()}
	}
	req.Log.Printf("compiling %s at %s", spec.Repo, spec.Ref)
	for _, stage := range []string{"fetching sources", "resolving modules", "compiling", "linking"} {
		select {
		case <-ctx.Done():
			return sdk.Result{Success: false, Message: "cancelled"}
		case <-time.After(100 * time.Millisecond):
		}
		req.Log.Printf("%s ...", stage)
	}
	artifact := fmt.Sprintf("%s-%s.tar.gz", req.Resource.Name, spec.Ref)
	req.Log.Printf("built %s", artifact)
	return sdk.Result{Success: true, Message: "compiled " + artifact, Data: map[string]any{"artifact": artifact}}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := sdk.NewManager(sdk.NewDriver("compiler", []string{"build"}, compile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "compiler:", err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "compiler:", err)
		os.Exit(1)
	}
}
