// Command uploader is an example driver: the second step of the
// compile-then-upload pipeline. It reads the compiler's result from the
// resource's metadata and "uploads" the artifact.
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

func upload(ctx context.Context, req sdk.Request) sdk.Result {
	var compiled struct {
		Success bool              `json:"success"`
		Data    map[string]string `json:"data"`
	}
	raw := req.Resource.Metadata["driverresults.compiler"]
	if err := json.Unmarshal([]byte(raw), &compiled); err != nil || compiled.Data["artifact"] == "" {
		return sdk.Result{Success: false, Message: "no artifact from the compiler in the resource's metadata"}
	}
	artifact := compiled.Data["artifact"]
	req.Log.Printf("uploading %s", artifact)
	select {
	case <-ctx.Done():
		return sdk.Result{Success: false, Message: "cancelled"}
	case <-time.After(200 * time.Millisecond):
	}
	url := "https://artifacts.example.com/" + artifact
	req.Log.Printf("uploaded to %s", url)
	return sdk.Result{Success: true, Message: "uploaded " + artifact, Data: map[string]any{"url": url}}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := sdk.NewManager(sdk.NewDriver("uploader", []string{"build"}, upload))
	if err != nil {
		fmt.Fprintln(os.Stderr, "uploader:", err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "uploader:", err)
		os.Exit(1)
	}
}
