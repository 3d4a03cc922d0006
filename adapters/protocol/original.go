package protocol

import wire "github.com/conveyor/conveyor/sdk/protocol"

// A driver of Conveyor CI's original runtime makes its own consumer and
// publishes its results on the bare ResultSubject. With NATS credentials
// required, such a driver connects into an account of its own
// (natsserver.Account) that reaches the server's account on OriginalRoutes
// alone; its consumer's creation comes to the server
// (ServeOriginalConsumers), which holds it to the driver's own work.

// OriginalRoute is a subject a driver of the original runtime publishes on
// in its own account, and where that lands in the server's account: To, or
// the same subject when To is empty. Stream says the answer to a request
// is a stream of messages (a pull's deliveries), not one message.
type OriginalRoute struct {
	Subject, To string
	Stream      bool
}

// OriginalRoutes are all that driver of the original runtime reaches: the
// creation of its consumer (answered by ServeOriginalConsumers), that
// consumer's information, pulls and acknowledgements, its results (landing
// on DriverResultSubject, so the intake knows who sent them) and its log
// lines. Nothing else: no stream, no other consumer, no event.
func OriginalRoutes(driver string) []OriginalRoute {
	return []OriginalRoute{
		{Subject: consumerAPI("CREATE", driver), To: OriginalConsumerSubject(driver)},
		{Subject: consumerAPI("INFO", driver)},
		{Subject: consumerAPI("MSG.NEXT", driver), Stream: true},
		{Subject: ackSubjects(driver)},
		{Subject: ResultSubject, To: DriverResultSubject(driver)},
		{Subject: wire.LogSubject("*")},
		{Subject: liveLogSubject(driver)},
	}
}

// OriginalConsumerSubject is where the request of driver of the original
// runtime to create its consumer reaches the server:
// conveyor.original.{driver}.consumer. Only driver's own account is given
// it, so the name in it is the sender's.
func OriginalConsumerSubject(driver string) string {
	return "conveyor.original." + driver + ".consumer"
}
