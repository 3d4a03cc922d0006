package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// Ports a read of the definitions never calls.
type (
	idleLogs   struct{ api.Logs }
	idleEvents struct{ api.EventLog }
)

// authRequests is how many requests each side of benchAuthCost sends.
const authRequests = 20000

// benchAuthCost measures what authentication adds to a request: the same
// read of the API's handler chain, in this process and without a network,
// once with authentication on and a valid token, once with it off. The
// difference is the middleware's cost per request; createP50 puts it
// beside a create's p50.
func benchAuthCost(createP50 time.Duration) ([]row, error) {
	tokens := projections.NewTokens()
	secret := commands.SecretPrefix + "benchmark-secret-benchmark-secret-0000"
	tokens.Apply(&domain.TokenIssued{
		Meta:  domain.Meta{Aggregate: domain.AggregateToken, AggregateID: "bench", Version: 1, Sequence: 1},
		Token: domain.Token{ID: "bench", Name: "bench", Role: domain.RoleViewer, Hash: domain.HashSecret(secret)},
	})
	per := func(tokens api.TokenTable) (time.Duration, error) {
		deps := api.Deps{Commands: new(commands.Handler), Queries: projections.NewReadModel(projections.NewMemStore()),
			Logs: idleLogs{}, Events: idleEvents{}, Tokens: tokens}
		s, err := api.New(api.Config{}, deps)
		if err != nil {
			return 0, err
		}
		h := s.Handler()
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/resource-definitions", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		var best time.Duration
		for round := 0; round < 3; round++ {
			start := time.Now()
			for i := 0; i < authRequests; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					return 0, fmt.Errorf("authentication benchmark: %d %s", w.Code, w.Body)
				}
			}
			if took := time.Since(start) / authRequests; best == 0 || took < best {
				best = took
			}
		}
		return best, nil
	}
	open, err := per(nil)
	if err != nil {
		return nil, err
	}
	authed, err := per(tokens)
	if err != nil {
		return nil, err
	}
	cost := authed - open
	value := fmt.Sprintf("%v per request (%v with, %v without)", cost, authed, open)
	if createP50 > 0 {
		value += fmt.Sprintf(": %.1f %% of a create's p50 at concurrency 1", 100*float64(cost)/float64(createP50))
	}
	return []row{{"authentication, in process", "cost of the bearer check", value}}, nil
}
