package audit

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

//go:embed axe_run.js
var axeRunJS string

// AxePathEnv names the variable that gives the path of axe.min.js, as
// --audit.axe-path does.
const AxePathEnv = "UXPROBE_AXE_PATH"

// ImageAxePath is where the Docker image puts axe-core.
const ImageAxePath = "/usr/share/uxprobe/axe-core/axe.min.js"

// wcagTags are axe's tags of WCAG 2.0, 2.1 and 2.2 at levels A and AA: the
// accessibility rule. Best practices (best-practice) and AAA are left out.
var wcagTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// CacheAxePath is where `make` installs axe-core: the user's cache
// directory, outside any checkout, so that every clone and the installed
// binary find the same copy, and a new pinned version goes beside the old.
func CacheAxePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "uxprobe", "axe-core-"+scenarios.AxeVersion, "node_modules", "axe-core", "axe.min.js")
}

// AxeInstallHint says how to get axe-core.
func AxeInstallHint() string {
	return fmt.Sprintf("install it with `make axe` (npm install --prefix %s axe-core@%s), or give the path of its axe.min.js with --audit.axe-path or %s",
		filepath.Dir(filepath.Dir(filepath.Dir(CacheAxePath()))), scenarios.AxeVersion, AxePathEnv)
}

// Axe is one axe-core script, read from disk.
type Axe struct {
	Path    string
	Version string
	// Rules are the ids of its rules, from the script itself.
	Rules  []string
	source string
}

// FindAxe looks for axe.min.js: at path when given (--audit.axe-path),
// else at $UXPROBE_AXE_PATH, else where `make` and the image put it. A
// path that was given and cannot be read is an error, not a reason to look
// elsewhere.
func FindAxe(path string) (*Axe, error) {
	if path == "" {
		path = os.Getenv(AxePathEnv)
	}
	if path != "" {
		return LoadAxe(path)
	}
	return FindInstalledAxe()
}

// FindInstalledAxe looks for axe.min.js only where `make` and the image
// put it.
func FindInstalledAxe() (*Axe, error) {
	var tried []string
	for _, p := range []string{CacheAxePath(), ImageAxePath} {
		if p == "" {
			continue
		}
		tried = append(tried, p)
		if _, err := os.Stat(p); err == nil {
			return LoadAxe(p)
		}
	}
	return nil, fmt.Errorf("axe-core was not found (looked at %s); %s", strings.Join(tried, ", "), AxeInstallHint())
}

var (
	axeHeaderRe = regexp.MustCompile(`^/\*! axe v(\d+\.\d+\.\d+)`)
	// A rule in axe's built-in configuration starts {id:"…", followed by
	// one of a rule's own keys; checks have evaluate instead.
	axeRuleRe = regexp.MustCompile(`\{id:"([a-z0-9-]+)",(?:impact|selector|excludeHidden|matches|tags|metadata|enabled|pageLevel|reviewOnFail|actIds):`)
)

// LoadAxe reads axe.min.js and the ids of its rules.
func LoadAxe(path string) (*Axe, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("axe-core: %w; %s", err, AxeInstallHint())
	}
	m := axeHeaderRe.FindSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("axe-core: %s is not axe.min.js of axe-core 4.x; %s", path, AxeInstallHint())
	}
	a := &Axe{Path: path, Version: string(m[1]), source: string(src)}
	if !strings.HasPrefix(a.Version, "4.") {
		return nil, fmt.Errorf("axe-core: %s is axe-core %s, uxprobe needs 4.x; %s", path, a.Version, AxeInstallHint())
	}
	s := a.source
	if i := strings.Index(s, "rules:[{id:"); i >= 0 {
		s = s[i:]
		if j := strings.Index(s, "checks:[{id:"); j >= 0 {
			s = s[:j]
		}
	}
	for _, m := range axeRuleRe.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(a.Rules, m[1]) {
			a.Rules = append(a.Rules, m[1])
		}
	}
	if len(a.Rules) == 0 {
		return nil, fmt.Errorf("axe-core: found no rules in %s", path)
	}
	return a, nil
}

// The axe-core that Run injects: set by UseAxe, or found once where FindAxe
// looks when Run first needs it.
var engine struct {
	sync.Mutex
	axe    *Axe
	err    error
	looked bool
}

// UseAxe sets the axe-core that audits inject; nil makes Run look for it
// again when it next needs it.
func UseAxe(a *Axe) {
	engine.Lock()
	defer engine.Unlock()
	engine.axe, engine.err, engine.looked = a, nil, a != nil
}

func currentAxe() (*Axe, error) {
	engine.Lock()
	defer engine.Unlock()
	if !engine.looked {
		engine.axe, engine.err = FindAxe("")
		engine.looked = true
	}
	return engine.axe, engine.err
}

// axeRequest splits the accessibility rules among names: whether the
// WCAG set runs, and the single axe rules.
func axeRequest(names []string) (full bool, single []string) {
	for _, n := range names {
		if n == scenarios.Accessibility {
			full = true
		} else if id, ok := strings.CutPrefix(n, scenarios.A11yPrefix); ok && !slices.Contains(single, id) {
			single = append(single, id)
		}
	}
	return full, single
}

type axeResult struct {
	ID       string           `json:"id"`
	Impact   string           `json:"impact"`
	Tags     []string         `json:"tags"`
	Help     string           `json:"help"`
	HelpURL  string           `json:"helpUrl"`
	Count    int              `json:"count"`
	Examples []result.Example `json:"examples"`
}

type axeReport struct {
	URL        string      `json:"url"`
	Version    string      `json:"version"`
	Violations []axeResult `json:"violations"`
	Incomplete []axeResult `json:"incomplete"`
}

// isolated evaluates in the isolated world of an IsolatedEvaluator.
type isolated struct{ ev IsolatedEvaluator }

func (i isolated) Evaluate(ctx context.Context, expr string, out any) error {
	return i.ev.EvaluateIsolated(ctx, expr, out)
}

// axeWorld is where axe-core goes: the isolated world when ev has one,
// else the page's own world, where a page could fake axe (an Evaluator of
// the page's world only, such as a plain tab in a test).
func axeWorld(ev Evaluator) Evaluator {
	if iso, ok := ev.(IsolatedEvaluator); ok {
		return isolated{iso}
	}
	return ev
}

// injectAxe puts axe-core into ev's world unless this version is there.
func injectAxe(ctx context.Context, ev Evaluator, a *Axe) error {
	var have string
	if err := ev.Evaluate(ctx, `(typeof axe === 'object' && axe && typeof axe.run === 'function') ? String(axe.version) : ''`, &have); err != nil {
		return err
	}
	if have == a.Version {
		return nil
	}
	var ok bool
	if err := ev.Evaluate(ctx, "(() => {\n"+a.source+"\n;return typeof axe === 'object' && typeof axe.run === 'function'; })()", &ok); err != nil {
		return err
	}
	if !ok {
		return errors.New("axe-core did not start in the page")
	}
	return nil
}

// runAxe runs the accessibility rules among names and adds what axe found
// to rep. Only ids of the injected axe-core become findings.
func runAxe(ctx context.Context, ev Evaluator, rep *Report, names []string, minImpact string) error {
	full, single := axeRequest(names)
	single = append([]string{}, single...) // [] not null for the script
	if !full && len(single) == 0 {
		return nil
	}
	a, err := currentAxe()
	if err != nil {
		rep.Errors = append(rep.Errors, RuleError{Rule: scenarios.Accessibility, Error: err.Error()})
		return nil
	}
	// A page that breaks axe-core (or replaced it) costs the
	// accessibility rule on that page, not the page rules' findings; a
	// spent context ends the audit.
	fail := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("accessibility audit: %w", err)
		}
		rep.Errors = append(rep.Errors, RuleError{Rule: scenarios.Accessibility, Error: err.Error()})
		return nil
	}
	ev = axeWorld(ev)
	if err := injectAxe(ctx, ev, a); err != nil {
		return fail(err)
	}
	tags := []string{}
	if full {
		tags = wcagTags
	}
	opts, err := json.Marshal(map[string]any{"tags": tags, "rules": single, "minImpact": minImpact, "examples": MaxExamples})
	if err != nil {
		return err
	}
	var ar axeReport
	if err := ev.Evaluate(ctx, "("+axeRunJS+")("+string(opts)+")", &ar); err != nil {
		return fail(err)
	}
	if rep.URL == "" {
		rep.URL = ar.URL
	}
	rep.Checked = append(rep.Checked, scenarios.Accessibility)
	rep.Findings = append(rep.Findings, axeFindings(a, ar.URL, ar.Violations)...)
	rep.NeedsReview = append(rep.NeedsReview, axeFindings(a, ar.URL, ar.Incomplete)...)
	return nil
}

func axeFindings(a *Axe, url string, rs []axeResult) []result.Finding {
	out := []result.Finding{}
	for _, r := range rs {
		if !slices.Contains(a.Rules, r.ID) || r.Count <= 0 {
			continue
		}
		ex := r.Examples
		if len(ex) > MaxExamples {
			ex = ex[:MaxExamples]
		}
		if ex == nil {
			ex = []result.Example{}
		}
		impact := r.Impact
		if !slices.Contains(scenarios.AxeImpacts, impact) {
			impact = ""
		}
		help, _, _ := strings.Cut(r.HelpURL, "?") // ?application=axeAPI
		out = append(out, result.Finding{
			Rule: scenarios.A11yPrefix + r.ID, URL: url, Count: r.Count, Message: r.Help, Examples: ex,
			Impact: impact, WCAG: wcagCriteria(r.Tags), HelpURL: help,
		})
	}
	return out
}

var wcagCriterionRe = regexp.MustCompile(`^wcag(\d)(\d)(\d{1,2})$`)

// wcagCriteria turns axe's tags into WCAG success criteria: wcag143 is
// 1.4.3, wcag1410 is 1.4.10; level tags such as wcag2aa are not criteria.
func wcagCriteria(tags []string) []string {
	var out []string
	for _, t := range tags {
		if m := wcagCriterionRe.FindStringSubmatch(t); m != nil {
			c := m[1] + "." + m[2] + "." + m[3]
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}
