package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// fetchSecrets asks the server for the values of the secrets the step of w
// is granted. The server answers only while the step's attempt is
// dispatched to this driver.
func (m *Manager) fetchSecrets(ctx context.Context, nc *nats.Conn, w protocol.Work) (map[string]string, error) {
	body, _ := json.Marshal(protocol.SecretsRequest{RunID: w.RunID, Step: w.Step, Attempt: w.Attempt})
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, protocol.SecretsSubjectOf(m.d.Name()), body)
	if err != nil {
		return nil, fmt.Errorf("ask the server for the step's secrets: %w", err)
	}
	var answer protocol.SecretsReply
	if err := json.Unmarshal(msg.Data, &answer); err != nil {
		return nil, fmt.Errorf("the server's answer about secrets is not JSON: %w", err)
	}
	if answer.Error != "" {
		return nil, errors.New(answer.Error)
	}
	return answer.Secrets, nil
}

// masked replaces every granted secret's value in line with ***.
func masked(line string, values []string) string {
	for _, v := range values {
		if v != "" {
			line = strings.ReplaceAll(line, v, "***")
		}
	}
	return line
}

// Mask returns s with the value of every secret granted to the logger's
// step replaced by ***, as the logger writes its lines: for what a driver
// sends elsewhere, such as its result's message and data, which the server
// stores as they come.
func (l *Logger) Mask(s string) string {
	if l == nil {
		return s
	}
	return masked(s, l.secrets)
}
