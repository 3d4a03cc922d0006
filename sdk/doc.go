// Package sdk is Conveyor's Go driver runtime and API client.
//
// A driver names the resource types it listens to and reconciles one
// resource at a time:
//
//	d := sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
//		req.Log.Printf("compiling %s", req.Resource.Name)
//		return sdk.Result{Success: true, Message: "compiled"}
//	})
//	m, err := sdk.NewManager(d, sdk.WithConcurrency(4))
//	...
//	err = m.Run(ctx) // until ctx ends
//
// A driver tells on stderr what it does: connecting, waiting for the
// server, waiting for work, each piece of work taken and its result, losing
// and regaining NATS. CONVEYOR_LOG_LEVEL (debug, info, warn, error, off)
// turns that down; WithLogger sends it elsewhere.
//
// The Manager speaks the wire protocol of Conveyor (and of Conveyor CI's own
// runtime) on NATS JetStream: a durable consumer named after the driver on
// the stream "messages" (made by the server on request), results on
// "pipelines.driver.result.{name}", log lines on
// "logs.{run_id}". A message is acknowledged only after its result is
// published, so a crash redelivers it; a panic in Reconcile is a failed
// result; long work keeps its message with in-progress acknowledgements.
//
// Delivery is at least once, and once per process: Request.IdempotencyKey
// names a step's attempt ({run_id}.{step}.{attempt}). The Manager does not
// run a key it is running, nor one whose result it stored recently (a
// server that crashed can hand the same message out again); it acknowledges
// such a delivery and writes a line into the run's log. A result that
// cannot be published while the server is away is tried again for two
// minutes before the work is handed back. Work runs again with the same key
// only when it was not finished: key side effects by it
// (docs/durability.md).
//
// While a reconcile of a pipeline step runs, the Manager sends a heartbeat
// every second, so that the server notices within seconds when the driver
// dies mid-step. When the server stops a step's work (its run was
// cancelled, failed or timed out, or the attempt timed out), the
// reconcile's context is cancelled and context.Cause(ctx) wraps
// ErrWorkStopped with the reason: stop promptly (exec.CommandContext kills
// the command). The logger then writes one last line, "stopped: REASON;
// later lines of this step are not stored", and drops what is logged after
// it. The result returned afterwards is still published and recorded as
// ignored, and the message acknowledged. Work whose stop notice arrived
// before the work itself (it was on its way when the server withdrew it)
// is not started.
//
// The Manager logs when it connects to NATS, loses the connection and
// regains it.
//
// Client is a typed client of the REST API, configured from
// CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT.
//
// The package imports no server package of Conveyor.
package sdk
