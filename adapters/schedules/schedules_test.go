package schedules_test

import (
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/schedules"
	"github.com/conveyor/conveyor/domain"
)

func TestParseRefusesNamingTheField(t *testing.T) {
	for name, tc := range map[string]struct {
		expr, zone, field string
	}{
		"four fields":          {"0 2 * *", "", "schedule"},
		"a minute of 61":       {"61 * * * *", "", "schedule"},
		"an unknown macro":     {"@fortnightly", "", "schedule"},
		"a zone in the expr":   {"CRON_TZ=Europe/Paris 0 2 * * *", "", "schedule"},
		"never":                {"0 0 30 2 *", "", "schedule"},
		"an unknown time zone": {"0 2 * * *", "Mars/Olympus", "timeZone"},
		"the server's zone":    {"0 2 * * *", "Local", "timeZone"},
	} {
		_, err := schedules.Cron{}.Parse(tc.expr, tc.zone)
		problems, ok := domain.AsValidation(err)
		if !ok || problems[0].Field != tc.field {
			t.Errorf("%s: %v, want a problem with %s", name, err, tc.field)
		}
	}
}

func TestNextTicks(t *testing.T) {
	for name, tc := range map[string]struct {
		expr, zone string
		from       string
		want       []string
	}{
		"nightly at 2 in Paris, in winter": {"0 2 * * *", "Europe/Paris", "2026-12-06T12:00:00Z",
			[]string{"2026-12-07T01:00:00Z", "2026-12-08T01:00:00Z"}},
		"nightly at 2 in Paris, in summer": {"0 2 * * *", "Europe/Paris", "2026-07-06T12:00:00Z",
			[]string{"2026-07-07T00:00:00Z", "2026-07-08T00:00:00Z"}},
		"hourly":           {"@hourly", "", "2026-12-07T10:59:59Z", []string{"2026-12-07T11:00:00Z", "2026-12-07T12:00:00Z"}},
		"every 10 minutes": {"*/10 * * * *", "UTC", "2026-12-07T10:00:00Z", []string{"2026-12-07T10:10:00Z", "2026-12-07T10:20:00Z"}},
		"@every 10m from the epoch, whenever asked": {"@every 10m", "", "2026-12-07T10:03:27.5Z",
			[]string{"2026-12-07T10:10:00Z", "2026-12-07T10:20:00Z"}},
		"@every 1s": {"@every 1s", "", "2026-12-07T10:00:00.9Z", []string{"2026-12-07T10:00:01Z", "2026-12-07T10:00:02Z"}},
	} {
		s, err := schedules.Cron{}.Parse(tc.expr, tc.zone)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		from, _ := time.Parse(time.RFC3339Nano, tc.from)
		for _, w := range tc.want {
			want, _ := time.Parse(time.RFC3339, w)
			got := s.Next(from)
			if !got.Equal(want) {
				t.Errorf("%s: next after %s is %s, want %s", name, from.UTC(), got.UTC(), want)
				break
			}
			if !s.Next(got.Add(-time.Nanosecond)).Equal(got) {
				t.Errorf("%s: the tick %s is not the next after the instant before it", name, got)
			}
			from = got
		}
	}
}

// TestLatestTickOfANightlySchedule: after a week without a server, the
// nightly trigger's catch-up is last night's tick, in its time zone.
func TestLatestTickOfANightlySchedule(t *testing.T) {
	s, err := schedules.Cron{}.Parse("30 2 * * *", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tr := domain.Trigger{Source: domain.SourceSchedule, CatchUp: domain.CatchUpLatest}
	saved := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	got, ok := tr.CatchUpTick(s, saved, now)
	if want := time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("catch-up %v %v, want %v", got, ok, want)
	}
}
