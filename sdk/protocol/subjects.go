package protocol

// The names of the protocol on NATS (docs/protocol.md), each written once.
const (
	// MessagesStream holds the work for drivers.
	MessagesStream = "messages"
	// ResultsStream holds drivers' results.
	ResultsStream = "pipeline-engine"
	// ResultSubject is where a driver of the original runtime publishes
	// its result; a driver with credentials publishes on
	// DriverResultSubject.
	ResultSubject = "pipelines.driver.result"
	// HeartbeatSubject, PresenceSubject and SecretsSubject are followed by
	// .{driver}.
	HeartbeatSubject = "conveyor.heartbeats"
	PresenceSubject  = "conveyor.presence"
	SecretsSubject   = "conveyor.secrets"
	// BroadcastSubject carries the messages POST /drivers/broadcast-message
	// sends to every driver.
	BroadcastSubject = "application"
)

// DriverResultSubject is where driver publishes its results.
func DriverResultSubject(driver string) string { return ResultSubject + "." + driver }

// ConsumerRequestSubject is where driver asks for its durable consumer.
func ConsumerRequestSubject(driver string) string { return "conveyor.drivers." + driver + ".consumer" }

// StopSubject is where the server tells driver to stop work it was given.
func StopSubject(driver string) string { return "conveyor.drivers." + driver + ".stop" }

// DriverInbox is the prefix of driver's reply subjects.
func DriverInbox(driver string) string { return "_INBOX." + driver }

// HeartbeatSubjectOf, PresenceSubjectOf and SecretsSubjectOf are driver's
// subjects of each.
func HeartbeatSubjectOf(driver string) string { return HeartbeatSubject + "." + driver }
func PresenceSubjectOf(driver string) string  { return PresenceSubject + "." + driver }
func SecretsSubjectOf(driver string) string   { return SecretsSubject + "." + driver }

// StepWorkSubject is where a pipeline step's work for driver over
// resources of type resource is published: drivers.{driver}.resources.{type}
// for a step without labels, drivers.{driver}.on.{set}.resources.{type} for
// a step that runs on the label set (LabelSet: gpu+linux). FanOutSubject is
// where a resource change goes to every driver of its type.
func StepWorkSubject(driver, set, resource string) string {
	if set == "" {
		return "drivers." + driver + ".resources." + resource
	}
	return "drivers." + driver + ".on." + set + ".resources." + resource
}
func FanOutSubject(resource string) string { return "resources." + resource }

// LogSubject is where the lines of a run's log are published.
func LogSubject(runID string) string { return "logs." + runID }
