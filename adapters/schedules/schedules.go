package schedules

import (
	"fmt"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/robfig/cron/v3"
)

// Cron parses cron expressions. Safe for concurrent use.
type Cron struct{}

var _ domain.Schedules = Cron{}

// Parse reads expr in the time zone zone ("" is UTC). A time zone inside
// the expression (CRON_TZ=…) is refused: timeZone says it. @every D ticks
// on the multiples of D since the Unix epoch, so that every server finds
// the same ticks whenever it starts.
func (Cron) Parse(expr, zone string) (domain.Schedule, error) {
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return nil, domain.Invalid("timeZone", fmt.Sprintf("%q is not an IANA time zone (UTC, Europe/Paris, America/New_York, …)", zone))
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, domain.Invalid("schedule", "must not name a time zone: timeZone does")
	}
	parsed, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, domain.Invalid("schedule", fmt.Sprintf("%q is not a cron expression (five fields, or @hourly, @daily, @every 10m, …): %v", expr, err))
	}
	var s domain.Schedule
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		p.Location = loc
		s = spec{p}
	case cron.ConstantDelaySchedule:
		s = every{delay: p.Delay, loc: loc}
	default:
		return nil, domain.Invalid("schedule", fmt.Sprintf("%q is not a schedule this server reads", expr))
	}
	if s.Next(time.Now()).IsZero() {
		return nil, domain.Invalid("schedule", fmt.Sprintf("%q never ticks", expr))
	}
	return s, nil
}

// spec is a five-field expression or a macro other than @every.
type spec struct{ *cron.SpecSchedule }

func (s spec) Location() *time.Location { return s.SpecSchedule.Location }

// every is @every delay: the multiples of delay since the Unix epoch.
type every struct {
	delay time.Duration
	loc   *time.Location
}

func (e every) Next(t time.Time) time.Time {
	d := e.delay.Nanoseconds()
	n := t.UnixNano()
	next := (n/d + 1) * d
	if n < 0 && n%d != 0 {
		next -= d
	}
	return time.Unix(0, next).In(e.loc)
}

func (e every) Location() *time.Location { return e.loc }
