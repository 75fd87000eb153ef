package main

import (
	"flag"

	"github.com/uxprobe/uxprobe/agent/audit"
	"github.com/uxprobe/uxprobe/scenarios"
)

// axeFlags find axe-core, the accessibility audit's engine, for the
// commands that load flows.
type axeFlags struct {
	path string
}

func (a *axeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.path, "audit.axe-path", "",
		"path of axe-core's axe.min.js (axe-core 4.x from npm), the engine of the accessibility audit rules; default $"+audit.AxePathEnv+
			", else where `make axe` installs it ($XDG_CACHE_HOME or ~/.cache, /uxprobe/axe-core-"+scenarios.AxeVersion+"/node_modules/axe-core/axe.min.js), else the image's "+audit.ImageAxePath+
			". Without it, flows that name accessibility or a11y-* rules are invalid and `audit: all` leaves accessibility out")
}

// find looks for axe-core once, makes it the audits' engine, and returns
// what the loader must know of it, and a warning when it is missing.
func (a *axeFlags) find(env *environment) (info *scenarios.Axe, warning string) {
	path := a.path
	if path == "" {
		if v, ok := env.lookupEnv(audit.AxePathEnv); ok {
			path = v
		}
	}
	var (
		ax  *audit.Axe
		err error
	)
	if path != "" {
		ax, err = audit.LoadAxe(path)
	} else {
		ax, err = audit.FindInstalledAxe()
	}
	if err != nil {
		audit.UseAxe(nil)
		return &scenarios.Axe{Missing: err.Error()}, "accessibility audits are off (audit: all runs the page rules only): " + err.Error()
	}
	audit.UseAxe(ax)
	return &scenarios.Axe{Rules: ax.Rules}, ""
}
