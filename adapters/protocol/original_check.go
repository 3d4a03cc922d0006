package protocol

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/conveyor/conveyor/domain"
)

// consumerCreateKeys are the keys a consumer creation's body may have.
var consumerCreateKeys = []string{"stream_name", "config", "action", "pedantic"}

// pullConsumerKeys are the settings of a pulled consumer that a driver may
// choose for its own. Left out: deliver_subject and deliver_group (a pushed
// consumer delivers wherever they say in the server's account), and
// flow_control and idle_heartbeat, which only a pushed one has; and any key
// not known here, whatever a later JetStream makes of it.
var pullConsumerKeys = []string{
	"name", "durable_name", "description", "deliver_policy", "opt_start_seq", "opt_start_time",
	"ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject", "filter_subjects",
	"replay_policy", "rate_limit_bps", "sample_freq", "max_waiting", "max_ack_pending", "headers_only",
	"max_batch", "max_expires", "max_bytes", "inactive_threshold", "num_replicas", "mem_storage",
	"metadata", "pause_until", "priority_policy", "priority_timeout", "priority_groups",
}

// checkOriginalConsumer checks the body of a consumer creation that driver
// sent and returns it as checked: only the keys known above, each once, so
// that JetStream reads exactly what was checked (Go's JSON decoding takes
// the last of repeated keys, and matches keys regardless of case). The
// consumer must be on `messages`, named driver (as name, durable name or
// both), and filter on driver's work alone: resources.{r} and
// drivers.{driver}.resources.{r}, one filter at least.
func checkOriginalConsumer(driver string, body []byte) ([]byte, error) {
	request, err := knownKeys(body, consumerCreateKeys)
	if err != nil {
		return nil, fmt.Errorf("consumer request: %w", err)
	}
	config, err := knownKeys(request["config"], pullConsumerKeys)
	if err != nil {
		return nil, fmt.Errorf("consumer config: %w", err)
	}
	var stream string
	var names struct {
		Name    string   `json:"name"`
		Durable string   `json:"durable_name"`
		Filter  string   `json:"filter_subject"`
		Filters []string `json:"filter_subjects"`
	}
	if err := json.Unmarshal(request["stream_name"], &stream); err != nil || stream != MessagesStream {
		return nil, fmt.Errorf("a driver's consumer is on stream %s only", MessagesStream)
	}
	checked, _ := json.Marshal(config) // one of each key
	if err := json.Unmarshal(checked, &names); err != nil {
		return nil, fmt.Errorf("consumer config: %w", err)
	}
	for _, name := range []string{names.Name, names.Durable} {
		if name != "" && name != driver {
			return nil, fmt.Errorf("driver %s may create the consumer %s only, not %s", driver, driver, name)
		}
	}
	if names.Name == "" && names.Durable == "" {
		return nil, fmt.Errorf("driver %s's consumer must be named %s", driver, driver)
	}
	filters := append(names.Filters, names.Filter)
	filters = slices.DeleteFunc(filters, func(f string) bool { return f == "" })
	if len(filters) == 0 {
		return nil, fmt.Errorf("driver %s's consumer must filter on its work: resources.{type} and drivers.%s.resources.{type}", driver, driver)
	}
	for _, f := range filters {
		if !isWorkOf(driver, f) {
			return nil, fmt.Errorf("driver %s may filter on resources.{type} and drivers.%s.resources.{type} only, not %s", driver, driver, f)
		}
	}
	request["config"] = checked
	return json.Marshal(request)
}

// knownKeys reads a JSON object whose keys are all among known.
func knownKeys(object []byte, known []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(object, &m); err != nil || m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s not allowed", strings.Join(unknown, ", "))
	}
	return m, nil
}

// isWorkOf reports whether subject is one of driver's WorkSubjects for
// some resource type: its last token.
func isWorkOf(driver, subject string) bool {
	resource := subject[strings.LastIndex(subject, ".")+1:]
	return domain.ValidName(resource) && slices.Contains(WorkSubjects(driver, []string{resource}), subject)
}
