package main

import (
	"context"
	"fmt"
)

func runValidate(_ context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "validate", "PATH...",
		"Checks flow files (or every *.yaml and *.yml below directories) and reports all errors of all files\n"+
			"with file:line:column. Exits 0 when every file is valid, 1 when any is invalid, 2 on usage errors.")
	vars := varsFlag{}
	fs.Var(vars, "var", "override a flow variable, name=value (repeatable)")
	var axe axeFlags
	axe.register(fs)
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "uxprobe validate: give at least one flow file or directory")
		return exitUsage
	}
	axeInfo, warning := axe.find(env)
	if warning != "" {
		fmt.Fprintln(env.stderr, "uxprobe validate: warning:", warning)
	}
	flows, invalid, err := loadAll(env, fs.Args(), vars, axeInfo)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe validate:", err)
		return exitUsage
	}
	for _, f := range flows {
		fmt.Fprintf(env.stdout, "ok  %-24s devices=%s steps=%d schedule=%q\n", f.Name, deviceNames(f), len(f.Steps), f.Schedule)
	}
	if invalid {
		return exitFailed
	}
	return exitOK
}
