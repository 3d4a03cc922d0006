package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// TestRoleRights: each role allows exactly what its description says.
func TestRoleRights(t *testing.T) {
	allowed := map[domain.Role][]domain.Role{
		domain.RoleViewer:   {domain.RoleViewer},
		domain.RoleDriver:   {domain.RoleViewer, domain.RoleDriver},
		domain.RoleOperator: {domain.RoleViewer, domain.RoleOperator},
		domain.RoleAdmin:    domain.Roles,
	}
	for _, has := range domain.Roles {
		for _, need := range domain.Roles {
			want := false
			for _, a := range allowed[has] {
				want = want || a == need
			}
			if got := has.Allows(need); got != want {
				t.Errorf("%s allows %s: %v, want %v", has, need, got, want)
			}
		}
	}
	if domain.Role("root").Valid() || domain.Role("").Valid() {
		t.Error("unknown roles are valid")
	}
}

// TestTokenLifecycle: one active token per name; revoked, the name can be
// issued again; the secret's hash, never the secret, is recorded.
func TestTokenLifecycle(t *testing.T) {
	cause := domain.Cause{EventID: "e", Time: time.Unix(1, 0)}
	tok := domain.Token{ID: "1", Name: "ci", Role: domain.RoleOperator, Hash: domain.HashSecret("cvy_secret")}
	var agg domain.TokenAggregate
	if err := agg.Issue(tok, cause); err != nil {
		t.Fatal(err)
	}
	if err := agg.Issue(tok, cause); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("a second active token under one name: %v", err)
	}
	if err := agg.Revoke("ci", cause); err != nil || agg.Active() {
		t.Fatalf("revoke: %v, active %v", err, agg.Active())
	}
	if err := agg.Revoke("ci", cause); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	tok.ID = "2"
	if err := agg.Issue(tok, cause); err != nil || !agg.Active() || agg.State().ID != "2" {
		t.Errorf("issue again after revocation: %v %+v", err, agg.State())
	}
	if len(agg.Changes()) != 3 || agg.Changes()[2].EventMeta().Version != 3 {
		t.Errorf("changes: %d", len(agg.Changes()))
	}
	for _, bad := range []domain.Token{
		{ID: "3", Name: "Bad Name", Role: domain.RoleViewer, Hash: tok.Hash},
		{ID: "3", Name: "x", Role: "root", Hash: tok.Hash},
		{ID: "3", Name: "x", Role: domain.RoleViewer, Hash: "cvy_secret"},
	} {
		var fresh domain.TokenAggregate
		if _, ok := domain.AsValidation(fresh.Issue(bad, cause)); !ok {
			t.Errorf("issue %+v: want a validation error", bad)
		}
	}
	if h := domain.HashSecret("cvy_secret"); len(h) != 64 || h == "cvy_secret" {
		t.Errorf("hash %q", h)
	}
}
