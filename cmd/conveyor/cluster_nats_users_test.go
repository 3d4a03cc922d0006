package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestClusterNATSUsers runs cluster mode on a NATS with the users of
// deploy/nats/authorization.conf (.ci/cluster.sh): the replica connects as
// the user conveyor, and the driver compiler, connected through the SDK as
// its own user, does the first step of a run. The same credentials are
// refused whatever is the server's: appending to the event log, a result in
// another driver's name or on the bare subject, reading another driver's
// work or everything, deleting or purging the log, making a consumer. Each
// comes back as a permissions violation naming its subject, and the log and
// the run are as they were. Without credentials, or with a wrong password,
// no connection.
func TestClusterNATSUsers(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	driverURL := clusterVariables(t, "CONVEYOR_TEST_NATS_DRIVER_URL")[0]
	u, err := url.Parse(driverURL)
	if err != nil || u.User == nil {
		t.Fatalf("CONVEYOR_TEST_NATS_DRIVER_URL carries no NATS user: %v", err)
	}
	c := newCluster(t, natsURL, etcd)
	c.compiler = u.User.Username() // the driver's NATS user is its name
	replica := c.start()
	// The drivers start once the replica has served requests: one that asks
	// for its consumer before the replica listens makes the consumer itself
	// and sends its results on the bare subject, which --nats-auth refuses.
	c.setUp([]*process{replica})
	compiled := c.runDriver(c.compiler, sdk.WithNATSURL(driverURL))
	c.runDriver(c.uploader) // on the server's user: only the compiler's identity is under test

	s := c.api(replica)
	runID := s.must(http.StatusCreated, "POST", "/resources", c.resource("app-1"))["runid"].(string)
	if run := c.waitRuns([]*process{replica}, []string{runID}, time.Now().Add(2*time.Minute))[runID]; run["status"] != "succeeded" {
		t.Fatalf("the run ended %v: %v", run["status"], run)
	}
	compiled.check(t, "compile", []string{runID})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events, err := c.js.Stream(ctx, "CONVEYOR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	runSubject := "conveyor.events.run." + runID
	before, err := events.GetLastMsgForSubject(ctx, runSubject)
	if err != nil {
		t.Fatalf("the run's last event: %v", err)
	}
	info, err := events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}

	nc, js, reported := connectAs(t, driverURL, c.compiler)
	short := func(call func(context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return call(ctx)
	}
	forged := []byte(`{"id":"forged","type":"RunFailed.v1","aggregate":"run","aggregateId":"` + runID + `"}`)
	result := []byte(`{"event":"driver.result","run_id":"` + runID + `","driverresult":{"success":false,"message":"forged"}}`)
	refused := []struct {
		what, subject string
		try           func() error // a call that waits for an answer must fail; a bare publish has none to wait for
		answered      bool
	}{
		{"append to the log", runSubject, func() error {
			return short(func(ctx context.Context) error { _, err := js.Publish(ctx, runSubject, forged); return err })
		}, true},
		{"a result in another driver's name", protocol.DriverResultSubject(c.uploader), func() error {
			return nc.Publish(protocol.DriverResultSubject(c.uploader), result)
		}, false},
		{"a result on the bare subject", "pipelines.driver.result", func() error {
			return nc.Publish("pipelines.driver.result", result)
		}, false},
		{"another driver's work", "drivers." + c.uploader + ".>", func() error {
			_, err := nc.Subscribe("drivers."+c.uploader+".>", func(*nats.Msg) {})
			return err
		}, false},
		{"another driver's deliveries", protocol.DriverInbox(c.uploader) + ".>", func() error {
			_, err := nc.Subscribe(protocol.DriverInbox(c.uploader)+".>", func(*nats.Msg) {})
			return err
		}, false},
		{"everything", ">", func() error { _, err := nc.Subscribe(">", func(*nats.Msg) {}); return err }, false},
		{"delete the log", "$JS.API.STREAM.DELETE.CONVEYOR_EVENTS", func() error {
			return short(func(ctx context.Context) error { return js.DeleteStream(ctx, "CONVEYOR_EVENTS") })
		}, true},
		{"purge the log", "$JS.API.STREAM.PURGE.CONVEYOR_EVENTS", func() error {
			_, err := nc.Request("$JS.API.STREAM.PURGE.CONVEYOR_EVENTS", nil, time.Second)
			return err
		}, true},
		{"a consumer on the compiler's work", "$JS.API.CONSUMER.CREATE." + protocol.MessagesStream + ".spy.drivers." + c.compiler + ".>", func() error {
			return short(func(ctx context.Context) error {
				_, err := js.CreateOrUpdateConsumer(ctx, protocol.MessagesStream, jetstream.ConsumerConfig{Durable: "spy",
					FilterSubject: "drivers." + c.compiler + ".>", AckPolicy: jetstream.AckExplicitPolicy})
				return err
			})
		}, true},
	}
	for _, r := range refused {
		if err := r.try(); r.answered && err == nil {
			t.Errorf("%s (%s): answered as if done", r.what, r.subject)
		} else if !r.answered && err != nil {
			t.Errorf("%s (%s): %v before the server answered", r.what, r.subject, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, r := range refused {
		for !slices.ContainsFunc(reported(), func(v string) bool {
			return strings.Contains(v, "Permissions Violation") && strings.Contains(v, `"`+r.subject+`"`)
		}) {
			if time.Now().After(deadline) {
				t.Errorf("%s: no permissions violation for %s; the server reported %q", r.what, r.subject, reported())
				break
			}
		}
	}

	// Nothing was written or removed.
	if last, err := events.GetLastMsgForSubject(ctx, runSubject); err != nil || last.Sequence != before.Sequence {
		t.Errorf("the run's last event is %v (%v), was %d: the forged event was appended", last, err, before.Sequence)
	}
	if now, err := events.Info(ctx); err != nil || now.State.FirstSeq != info.State.FirstSeq || now.State.Msgs < info.State.Msgs {
		t.Errorf("the log was purged or deleted: %v, was %+v (%v)", now, info.State, err)
	}
	if _, err := c.js.Consumer(ctx, protocol.MessagesStream, "spy"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("the consumer spy: %v, want none", err)
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["status"] != "succeeded" {
		t.Errorf("the run is %v after the forgeries: %v", run["status"], run)
	}

	// Without the password, or with another, no connection at all.
	anonymous, wrong := *u, *u
	anonymous.User, wrong.User = nil, url.UserPassword(c.compiler, "wrong")
	for _, who := range []struct{ what, url string }{{"no credentials", anonymous.String()}, {"a wrong password", wrong.String()}} {
		if nc, err := nats.Connect(who.url); err == nil {
			nc.Close()
			t.Errorf("connected with %s", who.what)
		} else if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("connect with %s: %v, want an authorization violation", who.what, err)
		}
	}
	replica.stop(t) // leaves nothing in flight on the shared consumers for the next test
}
