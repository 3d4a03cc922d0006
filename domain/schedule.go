package domain

import (
	"fmt"
	"math"
	"time"
)

// A schedule trigger (Source SourceSchedule) fires on a clock: each tick of
// its cron expression writes its resource once. A tick is a delivery like a
// webhook's, whose id is TickDeliveryID: the servers that fire the same
// tick write one TriggerFired, as a git host's redelivery writes one.

// SourceSchedule is the source of a trigger that fires on its schedule.
const SourceSchedule = "schedule"

// EventTick is the event of a schedule trigger's TriggerFired.
const EventTick = "tick"

// Catch-up policies of a schedule trigger: after a time when no server ran,
// CatchUpLatest fires the latest tick missed (one at most), CatchUpNone only
// the ticks to come.
const (
	CatchUpLatest = "latest"
	CatchUpNone   = "none"
)

// Schedule is a parsed schedule: the ticks of a cron expression in a time
// zone.
type Schedule interface {
	// Next is the first tick strictly after t; the zero time when there is
	// none within years.
	Next(t time.Time) time.Time
	// Location is the time zone the expression is read in.
	Location() *time.Location
}

// Schedules reads a trigger's schedule; the cron dialect is the adapter's.
type Schedules interface {
	// Parse reads expr in the IANA time zone zone ("" is UTC). Its error
	// is a *ValidationError naming schedule or timeZone.
	Parse(expr, zone string) (Schedule, error)
}

// checkSchedule checks the fields of a schedule trigger, and that a
// trigger of another source sets none of them. The expression and the
// time zone are read by Schedules.Parse.
func checkSchedule(t Trigger, add func(error)) {
	if t.Source != SourceSchedule {
		for _, f := range [][2]string{{"schedule", t.Schedule}, {"timeZone", t.TimeZone}, {"catchUp", t.CatchUp}} {
			if f[1] != "" {
				add(Invalid(f[0], fmt.Sprintf("is for schedule triggers only: %s triggers fire on deliveries", t.Source)))
			}
		}
		return
	}
	if t.Schedule == "" {
		add(Invalid("schedule", "must be a cron expression (five fields, or @hourly, @daily, @every 10m, …)"))
	}
	if len(t.Events) > 0 {
		add(Invalid("events", "must be empty for a schedule trigger: it fires on its ticks"))
	}
	if t.Secret != "" {
		add(Invalid("secret", "must be empty for a schedule trigger: nothing is delivered to it"))
	}
	if t.Insecure {
		add(Invalid("insecure", "must be false for a schedule trigger: nothing is delivered to it"))
	}
	if t.Report != nil {
		add(Invalid("report", "is for triggers that take deliveries: a tick names no commit to report on"))
	}
	switch t.CatchUp {
	case "", CatchUpLatest, CatchUpNone:
	default:
		add(Invalid("catchUp", fmt.Sprintf("must be latest or none, not %q", t.CatchUp)))
	}
}

// withScheduleDefaults gives a schedule trigger its default time zone (UTC)
// and catch-up (latest), so that what is stored says what it does.
func withScheduleDefaults(t Trigger) Trigger {
	if t.Source != SourceSchedule {
		return t
	}
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	if t.CatchUp == "" {
		t.CatchUp = CatchUpLatest
	}
	return t
}

// TickDeliveryID is the delivery id of the tick of trigger at tick:
// schedule:{trigger}:{the tick in RFC 3339, UTC}, the same on every server.
func TickDeliveryID(trigger string, tick time.Time) string {
	return "schedule:" + trigger + ":" + tick.UTC().Format(time.RFC3339)
}

// TickStampLayout is the layout of tick_stamp: the tick in the schedule's
// time zone, fit for a resource name (20261207-020000).
const TickStampLayout = "20060102-150405"

// TickInput is what a schedule trigger's expressions see of a tick: `tick`
// (a timestamp), `tick_unix` (its seconds since 1970), `tick_stamp` (the tick
// in the schedule's time zone as TickStampLayout), `event` "tick", and
// `headers` and `body` empty.
func TickInput(tick time.Time, loc *time.Location) HookInput {
	return HookInput{"headers": map[string]any{}, "body": map[string]any{}, "event": EventTick, "tick": tick.UTC(),
		"tick_unix": tick.Unix(), "tick_stamp": tick.In(loc).Format(TickStampLayout)}
}

// LatestTick is the latest tick of s after after and at or before now,
// when there is one. It looks back from now over windows that double, so
// that its cost follows the schedule's density, not the time since after.
func LatestTick(s Schedule, after, now time.Time) (time.Time, bool) {
	if !now.After(after) {
		return time.Time{}, false
	}
	for w := time.Minute; ; w *= 2 {
		from := now.Add(-w)
		whole := w >= now.Sub(after) || w > math.MaxInt64/4
		if whole {
			from = after
		}
		t := s.Next(from)
		if t.IsZero() || t.After(now) {
			if whole {
				return time.Time{}, false
			}
			continue
		}
		for {
			n := s.Next(t)
			if n.IsZero() || n.After(now) {
				return t, true
			}
			t = n
		}
	}
}

// CatchUpTick is the tick a schedule trigger saved at savedAt fires when a
// server starts at now: with catch-up latest, the latest tick since the
// save, which may have been missed while no server ran (firing it again
// writes nothing when it was not: its id is its tick's); with none, no tick.
func (t Trigger) CatchUpTick(s Schedule, savedAt, now time.Time) (time.Time, bool) {
	if t.Source != SourceSchedule || t.CatchUp == CatchUpNone {
		return time.Time{}, false
	}
	return LatestTick(s, savedAt, now)
}
