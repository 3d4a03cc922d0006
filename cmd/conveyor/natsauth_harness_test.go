package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// driverSecrets holds the NATS credentials the tests issued, by the admin
// token of the server's data (which survives its restarts) and the driver's
// name, so that a driver started again keeps its identity.
var driverSecrets sync.Map

// driverNATS is the NATS URL driver name connects with: its credentials,
// issued once through POST /drivers/{name}/credentials as `conveyor
// drivers credentials` does, at the server's current NATS address. A server
// on external NATS has none to give (409): the plain URL then.
func driverNATS(t testing.TB, at endpoints, name string) string {
	t.Helper()
	key := at.API
	if u, err := url.Parse(at.API); err == nil {
		if tok, ok := serverTokens.Load(u.Scheme + "://" + u.Host); ok {
			key = tok.(string)
		}
	}
	key += "/" + name
	secret, ok := driverSecrets.Load(key)
	if !ok {
		resp, err := http.Post(at.API+"/drivers/"+name+"/credentials", "application/json", nil)
		if err != nil {
			t.Fatalf("driver credentials of %s: %v", name, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			return at.NATS
		}
		var cred struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&cred); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("driver credentials of %s: status %d, %v", name, resp.StatusCode, err)
		}
		secret, _ = driverSecrets.LoadOrStore(key, cred.Token)
	}
	u, err := url.Parse(at.NATS)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(secret.(string))
	return u.String()
}

// originalNATS is the NATS URL driver name connects with when it runs on the
// original runtime: its credentials as `conveyor drivers credentials
// --original` prints them, the driver's name as user and its token as
// password.
func originalNATS(t testing.TB, at endpoints, name string) string {
	t.Helper()
	u, err := url.Parse(driverNATS(t, at, name))
	if err != nil {
		t.Fatal(err)
	}
	return originalNATSURL(u.String(), name, u.User.Username())
}
