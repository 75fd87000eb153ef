// Package junit writes run results as a JUnit XML report, the format CI
// systems (GitLab, Jenkins, GitHub Actions reporters) show as test results:
// one test case per flow and device, and one per audit step.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/uxprobe/uxprobe/agent/result"
)

type testSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Suites   []testSuite `xml:"testsuite"`
}

type testSuite struct {
	Name      string     `xml:"name,attr"`
	Tests     int        `xml:"tests,attr"`
	Failures  int        `xml:"failures,attr"`
	Errors    int        `xml:"errors,attr"`
	Time      string     `xml:"time,attr"`
	Timestamp string     `xml:"timestamp,attr,omitempty"`
	Cases     []testCase `xml:"testcase"`
}

type testCase struct {
	Name      string   `xml:"name,attr"`
	ClassName string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *problem `xml:"failure,omitempty"`
	Error     *problem `xml:"error,omitempty"`
	// CDATA keeps the step table readable in the raw file; escaped
	// character data would turn every newline into &#xA;.
	SystemOut *cdata `xml:"system-out,omitempty"`
}

type problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// Write renders results as JUnit XML: a suite per flow, a case per device.
// A site failure is a <failure>; a failure of uxprobe or Chrome is an
// <error>, as JUnit separates a failed test from a broken one.
func Write(w io.Writer, results []*result.Result) error {
	doc := testSuites{Name: "uxprobe"}
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Flow]
		if !ok {
			i = len(doc.Suites)
			index[r.Flow] = i
			doc.Suites = append(doc.Suites, testSuite{Name: r.Flow, Timestamp: r.StartedAt.Format("2006-01-02T15:04:05")})
		}
		s := &doc.Suites[i]
		tc := testCase{Name: xmlSafe(r.Flow + " on " + r.Device), ClassName: xmlSafe("uxprobe." + r.Flow), Time: seconds(r.DurationSeconds)}
		if d := details(r); d != "" {
			tc.SystemOut = &cdata{xmlSafe(d)}
		}
		if r.Error != nil {
			p := &problem{
				Message: xmlSafe(fmt.Sprintf("step %q: %s: %s", r.Error.Step, r.Error.Kind, r.Error.Message)),
				Type:    string(r.Error.Kind),
				Text:    xmlSafe(fmt.Sprintf("flow %s on %s failed at step %q\nkind: %s\n%s\n", r.Flow, r.Device, r.Error.Step, r.Error.Kind, r.Error.Message)),
			}
			if r.Outcome() == result.OutcomeError {
				tc.Error = p
				s.Errors++
				doc.Errors++
			} else {
				tc.Failure = p
				s.Failures++
				doc.Failures++
			}
		}
		s.Tests++
		doc.Tests++
		s.Cases = append(s.Cases, tc)
		for _, ac := range auditCases(r) {
			switch {
			case ac.Failure != nil:
				s.Failures++
				doc.Failures++
			case ac.Error != nil:
				s.Errors++
				doc.Errors++
			}
			s.Tests++
			doc.Tests++
			s.Cases = append(s.Cases, ac)
		}
	}
	var total float64
	for i := range doc.Suites {
		var t float64
		for _, r := range results {
			if r.Flow == doc.Suites[i].Name {
				t += r.DurationSeconds
			}
		}
		doc.Suites[i].Time = seconds(t)
		total += t
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// details lists the steps and screenshots, which CI shows under the case.
func details(r *result.Result) string {
	var b strings.Builder
	for _, s := range r.Steps {
		state := "ok"
		switch {
		case s.Skipped:
			state = "skipped"
		case !s.Success:
			state = "FAILED: " + s.Error
		}
		fmt.Fprintf(&b, "%-30s %7.3fs  %s\n", s.Name, s.DurationSeconds, state)
	}
	for _, p := range r.Screenshots {
		fmt.Fprintf(&b, "screenshot: %s\n", p)
	}
	return b.String()
}
