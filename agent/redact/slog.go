package redact

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/uxprobe/uxprobe/scenarios"
)

// Flows is the set of flows whose secrets a log Handler masks. The agent
// replaces it on every load and reload; it is safe for concurrent use.
type Flows struct {
	p atomic.Pointer[[]*scenarios.Flow]
}

// Set makes flows the set masked from now on.
func (s *Flows) Set(flows []*scenarios.Flow) {
	c := append([]*scenarios.Flow(nil), flows...)
	s.p.Store(&c)
}

// Add adds flows to the set, each replacing the flow of its name: the
// agent adds the valid flows of each load and reload, and keeps the
// flows of an invalid file running, so their secrets stay masked too.
func (s *Flows) Add(flows []*scenarios.Flow) {
	for {
		old := s.p.Load()
		var c []*scenarios.Flow
		if old != nil {
			c = make([]*scenarios.Flow, 0, len(*old)+len(flows))
			for _, f := range *old {
				if !slices.ContainsFunc(flows, func(n *scenarios.Flow) bool { return n.Name == f.Name }) {
					c = append(c, f)
				}
			}
		}
		c = append(c, flows...)
		if s.p.CompareAndSwap(old, &c) {
			return
		}
	}
}

// Mask masks the secrets of every flow of the set in str.
func (s *Flows) Mask(str string) string {
	if s == nil {
		return str
	}
	p := s.p.Load()
	if p == nil {
		return str
	}
	for _, f := range *p {
		if f != nil {
			str = f.Mask(str)
		}
	}
	return str
}

// Handler is a slog.Handler that masks every record before its inner
// handler sees it: the message, and every attribute, in groups, of the
// logger's own (With) attributes too, errors, Stringers and any other
// value whose text or JSON form holds a secret.
type Handler struct {
	inner slog.Handler
	mask  func(string) string
	// goas are the logger's groups and attributes, kept unmasked and
	// masked at each record, so that secrets loaded after the logger was
	// made are masked too.
	goas []groupOrAttrs
}

type groupOrAttrs struct {
	group string
	attrs []slog.Attr
}

// NewHandler wraps inner so that mask (such as (*Flows).Mask or a run's
// Flow.Mask) is applied to everything logged.
func NewHandler(inner slog.Handler, mask func(string) string) *Handler {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	return &Handler{inner: inner, mask: mask}
}

// Logger returns a logger whose records are masked by mask before l's
// handler sees them; a nil l gives nil.
func Logger(l *slog.Logger, mask func(string) string) *slog.Logger {
	if l == nil {
		return nil
	}
	return slog.New(NewHandler(l.Handler(), mask))
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(groupOrAttrs{attrs: attrs})
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(groupOrAttrs{group: name})
}

func (h *Handler) with(g groupOrAttrs) *Handler {
	c := *h
	c.goas = append(append([]groupOrAttrs(nil), h.goas...), g)
	return &c
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	inner := h.inner
	for _, g := range h.goas {
		if g.group != "" {
			inner = inner.WithGroup(h.mask(g.group))
		} else {
			inner = inner.WithAttrs(h.attrs(g.attrs))
		}
	}
	out := slog.NewRecord(r.Time, r.Level, h.mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return inner.Handle(ctx, out)
}

func (h *Handler) attrs(as []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return out
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: h.mask(a.Key), Value: h.value(a.Value)}
}

func (h *Handler) value(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.mask(v.String()))
	case slog.KindGroup:
		return slog.GroupValue(h.attrs(v.Group())...)
	case slog.KindAny:
		return h.anyValue(v.Any())
	default:
		return v // numbers, bools, times and durations hold no secret
	}
}

// anyValue masks an arbitrary value. The text and JSON handlers print an
// error or a Stringer by its text, and other values by %+v or their JSON;
// a value whose printed form holds a secret is replaced by that form,
// masked, and any other value is passed on as it is.
func (h *Handler) anyValue(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(h.mask(x.Error()))
	case fmt.Stringer:
		if s := x.String(); h.mask(s) != s {
			return slog.StringValue(h.mask(s))
		}
	case []byte:
		return slog.StringValue(h.mask(string(x)))
	}
	if s := fmt.Sprintf("%+v", x); h.mask(s) != s {
		return slog.StringValue(h.mask(s))
	}
	if b, err := json.Marshal(x); err == nil {
		if s := string(b); h.mask(s) != s {
			return slog.StringValue(h.mask(s))
		}
	}
	return slog.AnyValue(x)
}
