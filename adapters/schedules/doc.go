// Package schedules reads schedule triggers' cron expressions with
// github.com/robfig/cron/v3: five fields (minute, hour, day of month,
// month, day of week) or a macro (@yearly, @monthly, @weekly, @daily,
// @hourly, @every DURATION), in an IANA time zone. It satisfies
// domain.Schedules; it imports domain and no other package of this project.
package schedules
