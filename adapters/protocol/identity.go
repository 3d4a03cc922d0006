package protocol

import wire "github.com/conveyor/conveyor/sdk/protocol"

// Subjects a driver uses in its own name (docs/security.md). The name in each
// subject is the driver's identity: with NATS credentials required, only
// driver NAME may publish on the subjects that carry NAME.

// DriverResultSubject is where driver publishes its results:
// pipelines.driver.result.{driver}. The intake takes the subject's last
// token as the sender.
func DriverResultSubject(driver string) string { return wire.DriverResultSubject(driver) }

// ConsumerRequestSubject is where driver asks the server for its durable
// consumer on `messages`: conveyor.drivers.{driver}.consumer.
func ConsumerRequestSubject(driver string) string { return wire.ConsumerRequestSubject(driver) }

// consumerRequests matches every driver's ConsumerRequestSubject.
var consumerRequests = wire.ConsumerRequestSubject("*")

// DriverInbox is the inbox prefix of driver's connections
// (nats.CustomInboxPrefix): replies and deliveries to it reach no other
// driver.
func DriverInbox(driver string) string { return wire.DriverInbox(driver) }

// DriverPermissions is exactly what a process of driver with labels needs
// on NATS: take its work through its own durable consumers (the driver's,
// and one per non-empty subset of labels), acknowledge it, ask the server
// for those consumers, publish its results and log lines, and read replies
// on its own inbox. Nothing else: no other subject, no consumer of another
// driver, no JetStream administration (no stream delete or purge, no
// consumer create), no work or event subjects. Labels that break
// wire.CheckLabels count as none.
func DriverPermissions(driver string, labels []string) (publish, subscribe []string) {
	publish = []string{DriverResultSubject(driver), wire.LogSubject("*"), liveLogSubject(driver), ConsumerRequestSubject(driver)}
	if wire.CheckLabels(labels) != nil {
		labels = nil
	}
	for _, set := range wire.LabelSubsets(labels) {
		consumer := wire.ConsumerName(driver, set)
		publish = append(publish, consumerAPI("INFO", consumer), consumerAPI("MSG.NEXT", consumer), ackSubjects(consumer))
	}
	publish = append(publish, HeartbeatSubjectOf(driver), PresenceSubjectOf(driver), wire.SecretsSubjectOf(driver))
	subscribe = []string{DriverInbox(driver) + ".>", StopSubject(driver)}
	return publish, subscribe
}

// consumerAPI is the JetStream API subject of operation on driver's
// consumer on `messages`: $JS.API.CONSUMER.{operation}.messages.{driver}.
func consumerAPI(operation, driver string) string {
	return "$JS.API.CONSUMER." + operation + "." + MessagesStream + "." + driver
}

// ackSubjects match the acknowledgements of deliveries of driver's
// consumer.
func ackSubjects(driver string) string { return "$JS.ACK." + MessagesStream + "." + driver + ".>" }

// liveLogSubject matches driver's live log lines of every run.
func liveLogSubject(driver string) string { return "live.logs.*." + driver }
