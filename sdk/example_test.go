package sdk_test

import (
	"context"
	"encoding/json"
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

// A step's parameters (its `with` in the pipeline, evaluated by the server)
// decode into the driver's own struct; a step without `with` has none.
func ExampleRequest_with() {
	pusher := sdk.NewDriver("pusher", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		params := struct {
			Image string   `json:"image"`
			Tags  []string `json:"tags"`
		}{Image: "registry.example/" + req.Resource.Name}
		if len(req.With) > 0 {
			if err := json.Unmarshal(req.With, &params); err != nil {
				return sdk.Result{Success: false, Message: "with: " + err.Error()}
			}
		}
		req.Log.Printf("pushing %s with tags %v", params.Image, params.Tags)
		return sdk.Result{Success: true, Data: map[string]any{"image": params.Image}}
	})
	_ = pusher // run it with sdk.NewManager(pusher).Run(ctx), as in the package example
}
