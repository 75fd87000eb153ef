package main

import "github.com/uxprobe/uxprobe/agent/runner"

// filmstripFlag is --artifacts.filmstrip.
type filmstripFlag struct{ mode runner.FilmstripMode }

const filmstripUsage = "when to keep a run's filmstrip, the page's frames as it changed (Chrome's screencast: at most 10 a second, 480 px wide JPEGs, the last 150; filmstrip/frame-NNN.jpg beside its screenshots, and in the run history): on-failure (recorded on every run, kept when it fails), always or never (not recorded)"

func (f *filmstripFlag) Set(s string) error {
	m, err := runner.ParseFilmstripMode(s)
	if err != nil {
		return err
	}
	f.mode = m
	return nil
}

func (f *filmstripFlag) String() string {
	if f == nil {
		return string(runner.FilmstripOnFailure)
	}
	return string(f.Mode())
}

// Mode is the flag's value, on-failure unless set.
func (f *filmstripFlag) Mode() runner.FilmstripMode {
	if f.mode == "" {
		return runner.FilmstripOnFailure
	}
	return f.mode
}
