package statuspage

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
)

// Sizes of the inline SVGs, in their own units: they scale to the width
// of their box (width: 100% in CSS), so the page never overflows.
const (
	sparkW, sparkH = 160.0, 32.0
	lineW          = 320.0
	lineRowH       = 26.0
	lineLabelW     = 0.0 // labels sit above their bars, so narrow screens fit them
)

// sparkline draws the task times of a flow on a device over [from, to]: a
// line through the runs that tested the site, a dot with a cross at each
// failure, a hollow ring at each agent error. The title and aria-label
// say the same in words for those who do not see the picture.
func sparkline(points []history.Point, from, to time.Time) template.HTML {
	if len(points) == 0 {
		return ""
	}
	var lo, hi float64
	first := true
	for _, p := range points {
		if p.Outcome == result.OutcomeError {
			continue
		}
		if first || p.DurationSeconds < lo {
			lo = p.DurationSeconds
		}
		if first || p.DurationSeconds > hi {
			hi = p.DurationSeconds
		}
		first = false
	}
	if first { // agent errors only
		lo, hi = 0, 1
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		return 2 + (sparkW-4)*max(0, min(1, t.Sub(from).Seconds()/span))
	}
	y := func(d float64) float64 {
		if hi == lo {
			return sparkH / 2
		}
		return sparkH - 3 - (sparkH-6)*(d-lo)/(hi-lo)
	}
	failures, errs := 0, 0
	var line, marks strings.Builder
	for _, p := range points {
		px := x(p.StartedAt)
		switch p.Outcome {
		case result.OutcomeError:
			errs++
			fmt.Fprintf(&marks, `<circle cx="%.1f" cy="%.1f" r="2.5" class="m-error"/>`, px, sparkH/2)
			continue
		case result.OutcomeFailure:
			failures++
			py := y(p.DurationSeconds)
			fmt.Fprintf(&marks, `<path d="M%.1f %.1fl5 5m0-5l-5 5" class="m-fail"/>`, px-2.5, py-2.5)
		}
		fmt.Fprintf(&line, "%.1f,%.1f ", px, y(p.DurationSeconds))
	}
	label := fmt.Sprintf("task time over 24 h: %d runs, %s to %s, %d failed, %d agent errors",
		len(points), fmtSeconds(lo), fmtSeconds(hi), failures, errs)
	if first {
		label = fmt.Sprintf("task time over 24 h: %d runs, all agent errors", len(points))
	}
	label = template.HTMLEscapeString(label)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, sparkW, sparkH, label, label)
	if pts := strings.Fields(line.String()); len(pts) == 1 {
		// A line through one point draws nothing.
		var px, py float64
		fmt.Sscanf(pts[0], "%f,%f", &px, &py)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2" class="dot"/>`, px, py)
	} else if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	}
	b.WriteString(marks.String())
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}

// timeline draws a run's steps as bars on one time axis, each starting
// where the previous one ended, the name and duration above each bar; the
// failing step is marked by a cross and the word "failed", not by its
// colour alone.
func timeline(steps []result.Step, failing string) template.HTML {
	if len(steps) == 0 {
		return ""
	}
	var total float64
	for _, s := range steps {
		total += s.DurationSeconds
	}
	if total <= 0 {
		total = 1
	}
	h := lineRowH * float64(len(steps))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %.0f %.0f" role="img" aria-label="step timeline"><title>step timeline</title>`, lineW, h)
	var at float64
	for i, s := range steps {
		y := float64(i) * lineRowH
		x := lineLabelW + (lineW-lineLabelW-2)*at/total
		w := max(1.5, (lineW-lineLabelW-2)*s.DurationSeconds/total)
		class, mark := "b-ok", ""
		switch {
		case s.Skipped:
			class, mark = "b-skip", " (skipped)"
		case !s.Success || s.Name == failing && failing != "":
			class, mark = "b-fail", " ✘ failed"
		}
		label := template.HTMLEscapeString(fmt.Sprintf("%s %s%s", s.Name, fmtSeconds(s.DurationSeconds), mark))
		fmt.Fprintf(&b, `<text x="1" y="%.1f" class="t">%s</text>`, y+10, label)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="8" class="%s"><title>%s</title></rect>`, x, y+14, w, class, label)
		at += s.DurationSeconds
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}
