package domain_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

func githubTrigger() domain.Trigger {
	return domain.Trigger{Name: "app-push", Source: domain.SourceGitHub, Events: []string{"push", "tag"}, Secret: "hook",
		Resource: domain.TriggerResource{Type: "build", Name: `"app-" + body.after`, Spec: map[string]string{"ref": "body.after"}}}
}

func TestCheckTriggerRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*domain.Trigger)
		field  string
	}{
		"no secret":                {func(t *domain.Trigger) { t.Secret = "" }, "secret"},
		"unknown source":           {func(t *domain.Trigger) { t.Source = "svn" }, "source"},
		"schedule without one":     {func(t *domain.Trigger) { t.Source = "schedule" }, "schedule"},
		"schedule of github":       {func(t *domain.Trigger) { t.Schedule = "@daily" }, "schedule"},
		"event github never sends": {func(t *domain.Trigger) { t.Events = []string{"merge_request"} }, "events[0]"},
		"no events":                {func(t *domain.Trigger) { t.Events = nil }, "events"},
		"header of generic":        {func(t *domain.Trigger) { t.SignatureHeader = "X-Sig" }, "signatureHeader"},
		"secret and insecure":      {func(t *domain.Trigger) { t.Insecure = true }, "insecure"},
		"no resource name":         {func(t *domain.Trigger) { t.Resource.Name = "" }, "resource.name"},
	} {
		tr := githubTrigger()
		tc.change(&tr)
		problems, ok := domain.AsValidation(domain.CheckTrigger(tr))
		if !ok || problems[0].Field != tc.field {
			t.Errorf("%s: %v, want a problem with %s", name, problems, tc.field)
		}
	}
	if err := domain.CheckTrigger(githubTrigger()); err != nil {
		t.Errorf("a valid trigger: %v", err)
	}
}

func TestTriggerSaveCountsVersionsAndSkipsNoChange(t *testing.T) {
	var a domain.TriggerAggregate
	if err := a.Save(githubTrigger(), cause("e1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(githubTrigger(), cause("e2")); err != nil {
		t.Fatal(err)
	}
	changed := githubTrigger()
	changed.When = `body.ref == "refs/heads/main"`
	if err := a.Save(changed, cause("e3")); err != nil {
		t.Fatal(err)
	}
	var types, versions []string
	for _, e := range a.Changes() {
		types = append(types, e.EventMeta().Type)
		versions = append(versions, e.(*domain.TriggerSaved).Trigger.Version)
	}
	if diff := cmp.Diff([]string{"TriggerSaved.v1", "TriggerSaved.v1"}, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1", "2"}, versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if err := a.Delete("app-push", cause("e4")); err != nil || a.Exists() {
		t.Errorf("delete: %v, exists %v", err, a.Exists())
	}
	if err := a.Delete("app-push", cause("e5")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("second delete: %v, want not found", err)
	}
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestTriggerAuthenticatesEachSource(t *testing.T) {
	body := `{"ref":"refs/heads/main"}`
	gitlab, gitea, generic := githubTrigger(), githubTrigger(), githubTrigger()
	gitlab.Source, gitea.Source, generic.Source, generic.SignatureHeader = domain.SourceGitLab, domain.SourceGitea, domain.SourceGeneric, "X-Sig"
	for name, tc := range map[string]struct {
		trigger domain.Trigger
		headers map[string]string
		ok      bool
	}{
		"github signed":           {githubTrigger(), map[string]string{"x-hub-signature-256": "sha256=" + sign("s3cret", body)}, true},
		"github other secret":     {githubTrigger(), map[string]string{"x-hub-signature-256": "sha256=" + sign("other", body)}, false},
		"github other body":       {githubTrigger(), map[string]string{"x-hub-signature-256": "sha256=" + sign("s3cret", body+" ")}, false},
		"github unsigned":         {githubTrigger(), map[string]string{}, false},
		"github without prefix":   {githubTrigger(), map[string]string{"x-hub-signature-256": sign("s3cret", body)}, false},
		"gitea signed":            {gitea, map[string]string{"x-hub-signature-256": "sha256=" + sign("s3cret", body)}, true},
		"gitlab token":            {gitlab, map[string]string{"x-gitlab-token": "s3cret"}, true},
		"gitlab wrong token":      {gitlab, map[string]string{"x-gitlab-token": "s3cre"}, false},
		"generic signed":          {generic, map[string]string{"x-sig": sign("s3cret", body)}, true},
		"generic in wrong header": {generic, map[string]string{"x-hub-signature-256": "sha256=" + sign("s3cret", body)}, false},
	} {
		err := tc.trigger.Authenticate(domain.Delivery{Headers: tc.headers, Body: []byte(body)}, []byte("s3cret"))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, domain.ErrUnauthenticated)) {
			t.Errorf("%s: %v, want ok %v", name, err, tc.ok)
		}
	}
}

func TestTriggerEventsAndCommits(t *testing.T) {
	gitlab := githubTrigger()
	gitlab.Source = domain.SourceGitLab
	tag := map[string]any{"ref": "refs/tags/v1.0", "after": "abc"}
	for name, tc := range map[string]struct {
		trigger domain.Trigger
		headers map[string]string
		body    any
		want    string
	}{
		"github push":     {githubTrigger(), map[string]string{"x-github-event": "push"}, map[string]any{"ref": "refs/heads/main"}, "push"},
		"github tag push": {githubTrigger(), map[string]string{"x-github-event": "push"}, tag, "tag"},
		"github pr":       {githubTrigger(), map[string]string{"x-github-event": "pull_request"}, map[string]any{}, "pull_request"},
		"gitlab push":     {gitlab, map[string]string{"x-gitlab-event": "Push Hook"}, map[string]any{}, "push"},
		"gitlab tag":      {gitlab, map[string]string{"x-gitlab-event": "Tag Push Hook"}, tag, "tag"},
		"gitlab mr":       {gitlab, map[string]string{"x-gitlab-event": "Merge Request Hook"}, map[string]any{}, "merge_request"},
		"gitlab other":    {gitlab, map[string]string{"x-gitlab-event": "Pipeline Hook"}, map[string]any{}, "pipeline"},
	} {
		if got := tc.trigger.EventOf(domain.Delivery{Headers: tc.headers}, tc.body); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
	pr := map[string]any{"pull_request": map[string]any{"head": map[string]any{"sha": "def", "ref": "feature"}}, "ref": "x"}
	mr := map[string]any{"object_attributes": map[string]any{"last_commit": map[string]any{"id": "123"}, "source_branch": "fix"}}
	for name, tc := range map[string]struct {
		body        any
		commit, ref string
	}{
		"push": {tag, "abc", "refs/tags/v1.0"}, "pull request": {pr, "def", "feature"}, "merge request": {mr, "123", "fix"},
		"not an object": {"text", "", ""},
	} {
		if c, r := domain.CommitAndRef(tc.body); c != tc.commit || r != tc.ref {
			t.Errorf("%s: %q %q, want %q %q", name, c, r, tc.commit, tc.ref)
		}
	}
}

func TestTriggerInputHidesTheSecret(t *testing.T) {
	d := domain.Delivery{Headers: map[string]string{"x-gitlab-token": "s3cret", "x-hub-signature-256": "sha256=00", "x-github-event": "push"}}
	headers := githubTrigger().InputOf(d, nil, "push")["headers"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"x-github-event": "push"}, headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

func TestDeliveryFiresOnce(t *testing.T) {
	var a domain.DeliveryAggregate
	f := domain.TriggerFired{Trigger: "app-push", Delivery: "d-1", Resource: domain.Resource{Type: "build", Name: "app-abc"}}
	if err := a.Fire(f, cause(domain.FiredEventID("app-push", "d-1"))); err != nil {
		t.Fatal(err)
	}
	m := a.Changes()[0].EventMeta()
	if m.Type != domain.TypeTriggerFired || m.Aggregate != domain.AggregateDelivery || !strings.HasPrefix(m.AggregateID, "app-push/") {
		t.Errorf("event %s of %s/%s", m.Type, m.Aggregate, m.AggregateID)
	}
	if err := a.Fire(f, cause("again")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("second fire: %v, want a conflict", err)
	}
	if domain.FiredEventID("app-push", "d-1") != domain.FiredEventID("app-push", "d-1") ||
		domain.FiredEventID("app-push", "d-1") == domain.FiredEventID("app-push", "d-2") {
		t.Error("fired event ids are not derived from the delivery")
	}
}
