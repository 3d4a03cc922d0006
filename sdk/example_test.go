package sdk_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/conveyor/conveyor/sdk"
)

// A driver in a few lines: it listens to "build" resources, logs into the
// run, and reports success. Run it next to `conveyor server`.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	compiler := sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("compiling %s (run %s)", req.Resource.Name, req.RunID)
		return sdk.Result{Success: true, Message: "compiled", Data: map[string]any{"artifact": req.Resource.Name + ".tgz"}}
	})
	m, err := sdk.NewManager(compiler, sdk.WithConcurrency(4))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
