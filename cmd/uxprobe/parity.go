package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// parityWorse is the ratio to desktop from which a phone or tablet is marked
// worse, the same 1.5x as the UXProbeMobileSlowerThanDesktop alert.
const parityWorse = 1.5

// parityNoise is the smallest difference in seconds that counts as worse:
// a 10 ms step that takes 20 ms on a phone is twice as slow and nobody
// notices it.
const parityNoise = 0.05

// printParity prints, after check's table, a device parity section for
// every flow run on more than one device: task time, each step's time, the
// slowest LCP, CLS and findings per rule side by side, with the ratio to the
// flow's desktop run, and a ! where a phone or tablet is worse by more than
// 1.5x or has findings desktop does not.
func printParity(w io.Writer, results []*result.Result) {
	var flows []string
	byFlow := map[string][]*result.Result{}
	for _, r := range results {
		if _, ok := byFlow[r.Flow]; !ok {
			flows = append(flows, r.Flow)
		}
		byFlow[r.Flow] = append(byFlow[r.Flow], r)
	}
	header := false
	for _, flow := range flows {
		runs := byFlow[flow]
		if len(runs) < 2 {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nDEVICE PARITY (ratio to desktop; ! = a phone or tablet worse by more than %.1fx, or with findings desktop does not have)\n", parityWorse)
			header = true
		}
		printFlowParity(w, flow, runs)
	}
}

// baseline is the flow's desktop run: the device named desktop, else the
// first of the desktop class.
func baseline(runs []*result.Result) *result.Result {
	if i := slices.IndexFunc(runs, func(r *result.Result) bool { return r.Device == "desktop" }); i >= 0 {
		return runs[i]
	}
	if i := slices.IndexFunc(runs, func(r *result.Result) bool { return r.DeviceClass == string(scenarios.ClassDesktop) }); i >= 0 {
		return runs[i]
	}
	return nil
}

// cell is one measure of one run: absent when the run did not report it.
type cell struct {
	v  float64
	ok bool
}

func printFlowParity(w io.Writer, flow string, runs []*result.Result) {
	base := baseline(runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s", flow)
	for _, r := range runs {
		fmt.Fprintf(tw, "\t%s", r.Device)
	}
	fmt.Fprintln(tw)

	row := func(name string, get func(*result.Result) cell, format func(float64) string, noise float64) {
		fmt.Fprint(tw, "  "+name)
		b := cell{}
		if base != nil {
			b = get(base)
		}
		for _, r := range runs {
			c := get(r)
			s := "-"
			if c.ok {
				s = format(c.v)
				if r != base && b.ok && b.v > 0 {
					ratio := c.v / b.v
					s += fmt.Sprintf(" %.1fx", ratio)
					if r.DeviceClass != string(scenarios.ClassDesktop) && ratio > parityWorse && c.v-b.v >= noise {
						s += " !"
					}
				}
			}
			fmt.Fprint(tw, "\t"+s)
		}
		fmt.Fprintln(tw)
	}
	secs := func(v float64) string { return fmt.Sprintf("%.2fs", v) }
	row("task time", func(r *result.Result) cell { return cell{r.DurationSeconds, true} }, secs, parityNoise)

	// Steps in the order of the run that got furthest.
	var steps []string
	for _, r := range runs {
		for _, s := range r.Steps {
			// A screenshot's time is uxprobe's, not the user's: a DPR-3
			// phone's larger picture is no slower task.
			if !s.ProbeWork() && !slices.Contains(steps, s.Name) {
				steps = append(steps, s.Name)
			}
		}
	}
	for _, name := range steps {
		row("step "+name, func(r *result.Result) cell {
			i := slices.IndexFunc(r.Steps, func(s result.Step) bool { return s.Name == name })
			if i < 0 || r.Steps[i].Skipped {
				return cell{}
			}
			return cell{r.Steps[i].DurationSeconds, true}
		}, secs, parityNoise)
	}
	row("slowest LCP", func(r *result.Result) cell {
		v, ok := r.SlowestLCP()
		return cell{v, ok}
	}, secs, parityNoise)
	row("CLS", func(r *result.Result) cell {
		var c cell
		for _, p := range r.Pages {
			if p.CLS != nil && (!c.ok || *p.CLS > c.v) {
				c = cell{*p.CLS, true}
			}
		}
		return c
	}, func(v float64) string { return fmt.Sprintf("%.3f", v) }, 0.01)

	// Findings: every rule checked on any device, in the table's order.
	counts := make([]map[string]int, len(runs))
	for i, r := range runs {
		counts[i] = r.FindingsByRule()
	}
	var baseCounts map[string]int
	if base != nil {
		baseCounts = base.FindingsByRule()
	}
	for _, rule := range parityRules(counts) {
		checked := false
		for _, c := range counts {
			_, ok := countOf(c, rule)
			checked = checked || ok
		}
		if !checked {
			continue
		}
		fmt.Fprint(tw, "  findings "+rule)
		for i, r := range runs {
			n, ok := countOf(counts[i], rule)
			s := "-" // not checked on this device
			if ok {
				s = fmt.Sprint(n)
				if bn, _ := countOf(baseCounts, rule); r != base && base != nil && n > 0 && bn == 0 && r.DeviceClass != string(scenarios.ClassDesktop) {
					s += " !"
				}
			}
			fmt.Fprint(tw, "\t"+s)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// parityRules are the rows of findings: the table's rules, then each axe
// rule that any device found, by name.
func parityRules(counts []map[string]int) []string {
	rules := scenarios.AuditRuleNames()
	var a11y []string
	for _, c := range counts {
		for rule := range c {
			if strings.HasPrefix(rule, scenarios.A11yPrefix) && !slices.Contains(a11y, rule) {
				a11y = append(a11y, rule)
			}
		}
	}
	slices.Sort(a11y)
	return append(rules, a11y...)
}

// countOf is a rule's count on one device, and whether the rule was
// checked there: an axe rule was, with 0, wherever accessibility ran.
func countOf(c map[string]int, rule string) (int, bool) {
	if n, ok := c[rule]; ok {
		return n, true
	}
	if strings.HasPrefix(rule, scenarios.A11yPrefix) {
		if _, ok := c[scenarios.Accessibility]; ok {
			return 0, true
		}
	}
	return 0, false
}
