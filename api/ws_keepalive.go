package api

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// A WebSocket stream pings its client every pingInterval while nothing is
// being written to it, and ends, as errClientVanished, when no pong comes
// within pongWait. A client that went away without closing its connection
// (its machine lost, a network cut) is let go within their sum; a client
// that does not take what is written is stallLimit's and errTooSlow's.
const (
	pingInterval = 10 * time.Second
	pongWait     = 5 * time.Second
)

// keepAlive pings c until ctx ends; it calls end with errClientVanished
// when a ping goes unanswered. The channel it returns is closed once it has
// stopped.
func keepAlive(ctx context.Context, c *websocket.Conn, writing *atomic.Bool, end context.CancelCauseFunc) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pingInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if writing.Load() {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, pongWait)
			err := c.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				end(errClientVanished)
				return
			}
		}
	}()
	return done
}
