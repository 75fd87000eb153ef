package scenarios

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultSessionMaxAge is how old a saved session a flow with `session`
// starts with, unless its session_max_age says otherwise.
const DefaultSessionMaxAge = time.Hour

// SessionProvider returns the flow whose saved session this flow starts
// with (its `session`), as Load resolved it; nil when it names none or
// the flow was parsed on its own (Parse).
func (f *Flow) SessionProvider() *Flow { return f.sessionFlow }

// LoginURL is the URL of the flow's first goto step: where a consumer of
// its session lands when the session is no longer valid.
func (f *Flow) LoginURL() string {
	for _, st := range f.Steps {
		if g, ok := st.Action.(Goto); ok {
			return g.URL
		}
	}
	return ""
}

// SamePage reports whether two URLs are the same page: the same origin
// and path, whatever their query and fragment (a login page that carries
// a return address is still the login page).
func SamePage(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	oa, okA := Origin(a)
	ob, okB := Origin(b)
	pa, pb := strings.TrimSuffix(ua.Path, "/"), strings.TrimSuffix(ub.Path, "/")
	return okA && okB && oa == ob && pa == pb
}

func decodeSession(p *parser, v *yaml.Node, f *Flow) {
	s, ok := p.scalar(v, "session")
	if !ok {
		return
	}
	if !validFlowName(s) {
		p.errorf(v, "session %q must name a flow with provides_session: true", clip(s))
		return
	}
	if s == f.Name || (f.Name == "" && s == p.flow_) {
		p.errorf(v, "session %q names this flow itself; name the login flow that has provides_session: true", s)
		return
	}
	f.Session, f.sessionPos = s, p.pos(p.resolve(v))
	if f.SessionMaxAge == 0 {
		f.SessionMaxAge = DefaultSessionMaxAge
	}
}

// noSession reports a session_max_age without the session it is about.
func noSession(p *parser, doc *yaml.Node, _ *Flow) {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k := doc.Content[i]; k.Value == "session_max_age" {
			p.errorf(k, "session_max_age is about the saved session a flow starts with; add session: <login flow>, or remove it")
		}
	}
}

func decodeSessionMaxAge(p *parser, v *yaml.Node, f *Flow) {
	if d, ok := p.duration(v, "session_max_age"); ok {
		f.SessionMaxAge = d
	}
}

// CheckSessions resolves the session each flow names among the flows
// loaded together, and reports, at the flow's session key, a name that is
// no loaded flow, a flow without provides_session, and a cycle of flows
// that each need the other's session first.
func CheckSessions(flows []*Flow) ErrorList {
	byName := map[string]*Flow{}
	for _, f := range flows {
		byName[f.Name] = f
	}
	var errs ErrorList
	bad := func(f *Flow, format string, args ...any) {
		errs = append(errs, &Error{Pos: f.sessionPos, Flow: f.Name, Msg: fmt.Sprintf(format, args...)})
	}
	for _, f := range flows {
		f.sessionFlow = nil
		if f.Session == "" {
			continue
		}
		prov, ok := byName[f.Session]
		switch {
		case !ok:
			names := make([]string, 0, len(byName))
			for n, g := range byName {
				if g.ProvidesSession {
					names = append(names, n)
				}
			}
			bad(f, "session %q is no loaded flow%s; it must name a flow with provides_session: true", f.Session, didYouMean(f.Session, names))
			continue
		case !prov.ProvidesSession:
			bad(f, "session %q names a flow without provides_session: true (%s); add it to that login flow", f.Session, prov.Source)
			continue
		case prov.LoginURL() == "":
			bad(f, "session %q names a flow without a goto step; a login flow starts at its login page", f.Session)
			continue
		}
		f.sessionFlow = prov
	}
	for _, f := range flows {
		if f.sessionFlow == nil {
			continue
		}
		chain := []string{f.Name}
		for g := f.sessionFlow; g != nil; g = g.sessionFlow {
			chain = append(chain, g.Name)
			if g == f {
				bad(f, "session %q makes a cycle (%s): each flow would need the other's session first", f.Session, strings.Join(chain, " -> "))
				break
			}
			if len(chain) > len(flows)+1 {
				break // a cycle further on, reported at its own flows
			}
		}
	}
	for _, e := range errs {
		for _, f := range flows {
			if f.Name == e.Flow {
				f.sessionFlow = nil
			}
		}
	}
	return errs.sorted()
}
