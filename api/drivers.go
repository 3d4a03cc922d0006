package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// LogWriter stores a log line of a run in the `logs` stream, as a driver
// publishes it.
type LogWriter interface {
	WriteLog(ctx context.Context, line projections.LogLine) error
}

// Broadcaster publishes a DriverMessage, already encoded, where the
// original Conveyor CI broadcasts it to drivers.
type Broadcaster interface {
	Broadcast(ctx context.Context, message []byte) error
}

type writeLogInput struct {
	Body struct {
		RunID     string `json:"runid" minLength:"1" pattern:"^[^.*> \\t\\r\\n]+$" doc:"the Run ID; the line is stored on logs.{runid}"`
		Driver    string `json:"driver" required:"false" doc:"the driver that wrote the line"`
		Pipeline  string `json:"pipeline" required:"false" doc:"the pipeline of the run"`
		Timestamp string `json:"timestamp" required:"false" doc:"when the line was written, in Unix seconds as a string; absent or empty: when the server received it"`
		Message   string `json:"message" required:"false" doc:"the line"`
	}
}

// driverMessage is the original Conveyor CI's DriverMessage.
type driverMessage struct {
	Event   string `json:"event" required:"false" doc:"the event's name, such as create"`
	Payload string `json:"payload" required:"false" doc:"the payload, a JSON document as a string"`
	ID      string `json:"id" required:"false" doc:"ignored: the server gives each message a new ID"`
	RunID   string `json:"run_id" required:"false" doc:"the Run ID the message is about, if any"`
}

type broadcastInput struct {
	Body driverMessage
}

type broadcastOutput struct {
	Body struct {
		Message string `json:"message" doc:"message published"`
	}
}

// registerDrivers serves what the original Conveyor CI lets drivers and
// their operators send through the API: POST /logs and POST
// /drivers/broadcast-message, when this server has the ports for them.
func (s *Server) registerDrivers(logs LogWriter, broadcast Broadcaster) {
	if logs != nil {
		op := s.op(http.MethodPost, "/logs", "create-log-line", "Store a log line of a run, as a driver publishes it",
			"Stores the line in the `logs` stream on `logs.{runid}`, exactly as a driver publishes it, so `GET /runs/{id}/logs` and `GET /logs` show it. For drivers that send their logs over HTTP, as the original Conveyor CI allows.", "runs")
		op.DefaultStatus = http.StatusCreated
		huma.Register(s.api, op, func(ctx context.Context, in *writeLogInput) (*struct{}, error) {
			b := in.Body
			if b.Timestamp == "" {
				// A line without a time would be stored with "" and shown
				// with none; the time it arrived is the nearest to when it
				// was written, and the form drivers send.
				b.Timestamp = strconv.FormatInt(time.Now().Unix(), 10)
			}
			line := projections.LogLine{RunID: b.RunID, Driver: b.Driver, Pipeline: b.Pipeline, Timestamp: b.Timestamp, Message: b.Message}
			if err := logs.WriteLog(ctx, line); err != nil {
				return nil, huma.Error503ServiceUnavailable("storing the log line failed: " + err.Error())
			}
			return nil, nil
		})
	}
	if broadcast != nil {
		huma.Register(s.api, s.op(http.MethodPost, "/drivers/broadcast-message", "broadcast-driver-message", "Broadcast a message to drivers",
			"Publishes the DriverMessage, with a new `id`, on the core NATS subject `application`, as the original Conveyor CI does. Nothing keeps it: only drivers subscribed at that moment see it.", "drivers"),
			func(ctx context.Context, in *broadcastInput) (*broadcastOutput, error) {
				msg := in.Body
				msg.ID = rand.Text()
				data, err := json.Marshal(msg)
				if err != nil {
					return nil, s.problem(ctx, err)
				}
				if err := broadcast.Broadcast(ctx, data); err != nil {
					return nil, huma.Error503ServiceUnavailable("publishing the message failed: " + err.Error())
				}
				out := &broadcastOutput{}
				out.Body.Message = "message published"
				return out, nil
			})
	}
}
