// Package parking keeps the events a consumer of the event log could not
// handle, so that the events after them go on: the projector, the engine and
// the driver-result intake park what they cannot apply instead of retrying
// it without end. An entry stays until an operator removes it, after fixing
// its cause.
//
// The entries live on their own JetStream stream (CONVEYOR_PARKED by
// default), one subject per consumer: conveyor.parked.{consumer}. The
// stream's sequence is an entry's ID. Store implements projections.Parking
// and, through Publisher, watermill's message.Publisher for the poison-queue
// middleware.
//
// It imports projections and domain of this project; nothing of it imports
// this package but the server's wiring.
package parking
