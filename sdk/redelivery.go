package sdk

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// settleAgain answers a delivery of work that runs here already, or ran here
// and had its result stored: a server that crashed can lose the last moments
// of its consumers' positions (a single server writes them to disk about ten
// times a second) and hand the same message out again. The work is not run
// twice. The delivery waits for the execution under way and is settled as
// it was: acknowledged when its result was stored, handed back when not, so
// that the work still runs once more (at-least-once). A line in the run's
// log says which of the two it was when the delivery came.
func (m *Manager) settleAgain(ctx context.Context, msg jetstream.Msg, adm admission, logger *Logger, key string, log *slog.Logger) {
	earlier := adm.earlier
	if adm.stored {
		logger.Printf("delivered again after its result was stored (%s); not run again", key)
	} else {
		logger.Printf("delivered again while it runs here (%s); not run twice", key)
		stop := keepInProgress(msg, m.opts.ackWait/3)
		<-earlier.settled
		stop()
	}
	logger.Flush()
	log.Info("a delivery of work this process runs or ran was not run again", "key", key, "stored", earlier.acked)
	if !earlier.acked {
		_ = msg.NakWithDelay(m.backoff(msg))
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack of a repeated delivery failed; it may come again", "key", key, "err", err)
	}
}

// resultPatience is how long a step's result waits for a server that does
// not answer (it is restarting, say) before its work is handed back to run
// again. It matches the result stream's duplicate window (NATS's default of
// two minutes), within which a result published twice is stored once.
const resultPatience = 2 * time.Minute

// resultTry bounds one attempt to publish a result.
const resultTry = 5 * time.Second

// publishResultPatiently publishes a result, trying again with growing
// pauses until it is stored, ctx ends or resultPatience has passed: work
// that finished while the server was down is then not run again.
func (m *Manager) publishResultPatiently(ctx context.Context, js jetstream.JetStream, subject string, w protocol.Work,
	r Resource, res Result, log *slog.Logger) error {
	giveUp := time.Now().Add(resultPatience)
	pause := 100 * time.Millisecond
	for tries := 1; ; tries++ {
		tctx, cancel := context.WithTimeout(ctx, resultTry)
		err := m.publishResult(tctx, js, subject, w, r, res)
		cancel()
		if err == nil {
			if tries > 1 {
				log.Info("result published after the server came back", "run", w.RunID, "step", w.Step, "tries", tries)
			}
			return nil
		}
		if ctx.Err() != nil || time.Now().Add(pause).After(giveUp) {
			return err
		}
		if tries == 1 {
			log.Warn("result not published yet; trying again", "run", w.RunID, "step", w.Step, "err", err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}
