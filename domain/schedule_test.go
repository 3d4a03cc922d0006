package domain_test

import (
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// every is a schedule that ticks on the multiples of its period since the
// Unix epoch, in UTC: a cron expression without the cron library, which
// the domain does not import.
type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d).UTC()
}

func (every) Location() *time.Location { return time.UTC }

func instant(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func scheduleTrigger() domain.Trigger {
	return domain.Trigger{Name: "nightly", Source: domain.SourceSchedule, Schedule: "0 2 * * *",
		Resource: domain.TriggerResource{Type: "build", Name: `"nightly-" + tick_stamp`}}
}

func TestLatestTick(t *testing.T) {
	hourly, minutely := every(time.Hour), every(time.Minute)
	for name, tc := range map[string]struct {
		s          domain.Schedule
		after, now string
		want       string // "" for none
	}{
		"the tick just past":             {hourly, "2026-12-07T09:30:00Z", "2026-12-07T10:00:05Z", "2026-12-07T10:00:00Z"},
		"a tick at now counts":           {hourly, "2026-12-07T09:30:00Z", "2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z"},
		"the latest of several":          {hourly, "2026-12-01T00:00:00Z", "2026-12-07T10:59:59Z", "2026-12-07T10:00:00Z"},
		"none since after":               {hourly, "2026-12-07T10:00:00Z", "2026-12-07T10:59:59Z", ""},
		"after a tick excludes it":       {hourly, "2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z", ""},
		"a year of minutes, looked back": {minutely, "2025-12-07T00:00:00Z", "2026-12-07T10:03:30Z", "2026-12-07T10:03:00Z"},
		"from the start of time":         {hourly, "0001-01-01T00:00:00Z", "2026-12-07T10:30:00Z", "2026-12-07T10:00:00Z"},
	} {
		got, ok := domain.LatestTick(tc.s, instant(tc.after), instant(tc.now))
		var want time.Time
		if tc.want != "" {
			want = instant(tc.want)
		}
		if ok != (tc.want != "") || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %q", name, got, ok, tc.want)
		}
	}
}

func TestCatchUpTick(t *testing.T) {
	daily := every(24 * time.Hour)
	saved := instant("2026-12-01T12:00:00Z")
	for name, tc := range map[string]struct {
		catchUp string
		now     string
		want    string
	}{
		"latest: the one missed last night":       {domain.CatchUpLatest, "2026-12-07T09:00:00Z", "2026-12-07T00:00:00Z"},
		"latest by default":                       {"", "2026-12-07T09:00:00Z", "2026-12-07T00:00:00Z"},
		"latest: none since the trigger was made": {domain.CatchUpLatest, "2026-12-01T23:59:59Z", ""},
		"none: only ticks to come":                {domain.CatchUpNone, "2026-12-07T09:00:00Z", ""},
	} {
		tr := scheduleTrigger()
		tr.CatchUp = tc.catchUp
		got, ok := tr.CatchUpTick(daily, saved, instant(tc.now))
		var want time.Time
		if tc.want != "" {
			want = instant(tc.want)
		}
		if ok != (tc.want != "") || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %q", name, got, ok, tc.want)
		}
	}
	if _, ok := githubTrigger().CatchUpTick(daily, saved, instant("2026-12-07T09:00:00Z")); ok {
		t.Error("a github trigger has a catch-up tick")
	}
}

func TestCheckScheduleTrigger(t *testing.T) {
	if err := domain.CheckTrigger(scheduleTrigger()); err != nil {
		t.Errorf("a valid schedule trigger: %v", err)
	}
	for name, tc := range map[string]struct {
		change func(*domain.Trigger)
		field  string
	}{
		"no schedule":        {func(t *domain.Trigger) { t.Schedule = "" }, "schedule"},
		"events":             {func(t *domain.Trigger) { t.Events = []string{"push"} }, "events"},
		"a secret":           {func(t *domain.Trigger) { t.Secret = "hook" }, "secret"},
		"insecure":           {func(t *domain.Trigger) { t.Insecure = true }, "insecure"},
		"a catch-up unknown": {func(t *domain.Trigger) { t.CatchUp = "all" }, "catchUp"},
		"a delivery header":  {func(t *domain.Trigger) { t.DeliveryHeader = "X-Id" }, "deliveryHeader"},
	} {
		tr := scheduleTrigger()
		tc.change(&tr)
		problems, ok := domain.AsValidation(domain.CheckTrigger(tr))
		if !ok || len(problems) != 1 || problems[0].Field != tc.field {
			t.Errorf("%s: %v, want one problem with %s", name, problems, tc.field)
		}
	}
}

func TestScheduleTriggerSavedWithItsDefaults(t *testing.T) {
	var a domain.TriggerAggregate
	for _, id := range []string{"e1", "e2"} {
		if err := a.Save(scheduleTrigger(), cause(id)); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.Changes()) != 1 {
		t.Fatalf("%d events, want 1: the same trigger saved again changes nothing", len(a.Changes()))
	}
	got := a.State()
	if got.TimeZone != "UTC" || got.CatchUp != domain.CatchUpLatest {
		t.Errorf("time zone %q, catch-up %q; want UTC and latest", got.TimeZone, got.CatchUp)
	}
}

func TestTickDeliveryAndInput(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	tick := time.Date(2026, 12, 7, 2, 0, 0, 0, paris)
	if got, want := domain.TickDeliveryID("nightly", tick), "schedule:nightly:2026-12-07T01:00:00Z"; got != want {
		t.Errorf("delivery id %q, want %q", got, want)
	}
	in := domain.TickInput(tick, paris)
	want := domain.HookInput{"headers": map[string]any{}, "body": map[string]any{}, "event": "tick",
		"tick": tick.UTC(), "tick_unix": tick.Unix(), "tick_stamp": "20261207-020000"}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	if domain.DeliveryKey("nightly", domain.TickDeliveryID("nightly", tick)) == domain.DeliveryKey("nightly", domain.TickDeliveryID("nightly", tick.Add(time.Second))) {
		t.Error("two ticks share a delivery key")
	}
}
