package scenarios

import "github.com/robfig/cron/v3"

// cronParser reads schedules: five-field cron or a descriptor such as
// @every 1m or @hourly. Seconds are left out on purpose, since a browser run
// takes seconds itself.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule reads a flow's schedule. It is the one parser of schedules:
// the loader validates with it and the agent schedules with it, so the two
// can never disagree about what a valid schedule is.
func ParseSchedule(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

// defaultCron is DefaultSchedule parsed, shared by every flow that names no
// schedule: a parsed schedule is never changed by its use.
var defaultCron = func() cron.Schedule {
	c, err := ParseSchedule(DefaultSchedule)
	if err != nil {
		panic("DefaultSchedule does not parse: " + err.Error())
	}
	return c
}()

// ValidateSchedule checks a schedule the way the agent will parse it.
func ValidateSchedule(spec string) error {
	_, err := ParseSchedule(spec)
	return err
}
