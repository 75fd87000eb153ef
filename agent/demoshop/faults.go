package demoshop

import (
	"fmt"
	"strings"
	"time"
)

// defaultSlowDelay is the delay that the bare word "slow" stands for: long
// enough to show up clearly on a dashboard, short enough to stay inside the
// step timeouts of the example flows.
const defaultSlowDelay = 2 * time.Second

// allowedFaults is what an error message offers the user, in the syntax they
// type.
const allowedFaults = "none, slow, slow=<duration>, checkout, js-error, missing-help, mobile-overflow, a11y, layout"

// Faults switch deliberate failures on, for tests and for the demo.
type Faults struct {
	Delay         time.Duration // added before every HTML document response ("slow responses")
	CheckoutError bool          // POST /checkout answers HTTP 500 with an error page
	JSError       bool          // every page throws an uncaught JavaScript error after it has rendered (flows still pass; the error is only reported)
	MissingHelp   bool          // the Help link is not rendered at all (help-visible flow fails)
	// MobileOverflow adds a promotion banner of a fixed 720 px to every
	// page: it fits a tablet and a desktop, and sticks out of a phone's
	// screen (the mobile-audit flow finds horizontal-overflow on mobile only).
	MobileOverflow bool
	// A11y is the phone layout of checkout gone wrong: below 600 px the
	// labels of the form's text fields are dropped and the Place order button is pale green
	// with white text (1.9:1). Desktop and tablet stay as they were (the
	// mobile-audit flow finds a11y-label and a11y-color-contrast on mobile
	// only).
	A11y bool
	// Layout is checkout's phone layout gone wrong another way: below
	// 600 px an app banner slides over the Place order button. Desktop
	// and tablet look as they did (the checkout-visual flow's
	// assert_screenshot fails on mobile only, with kind visual).
	Layout bool
}

// FaultSpecError reports a fault spec that ParseFaults cannot read. It is a
// type of its own so that the command line and the admin page can tell a
// user's typo apart from other failures.
type FaultSpecError struct {
	Item   string // the comma-separated item at fault, as typed
	Reason string
}

// Error names the item, why it is wrong and what is allowed instead.
func (e *FaultSpecError) Error() string {
	return fmt.Sprintf("demoshop: fault %q: %s (allowed: %s)", e.Item, e.Reason, allowedFaults)
}

// ParseFaults reads a fault spec: "" or "none" for no faults, otherwise a
// comma-separated list of slow (a 2s delay), slow=<duration>, checkout,
// js-error, missing-help, mobile-overflow, a11y and layout. It is the syntax of the demo command's flag and
// of the admin page, so that a person types the same thing in both.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "none") {
		return f, nil
	}
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		word, value, hasValue := strings.Cut(item, "=")
		word = strings.ToLower(strings.TrimSpace(word))
		value = strings.TrimSpace(value)
		if seen[word] {
			return Faults{}, &FaultSpecError{Item: item, Reason: "given more than once"}
		}
		seen[word] = true
		if hasValue && word != "slow" {
			return Faults{}, &FaultSpecError{Item: item, Reason: "takes no value"}
		}
		switch word {
		case "slow":
			f.Delay = defaultSlowDelay
			if hasValue {
				d, err := time.ParseDuration(value)
				if err != nil {
					return Faults{}, &FaultSpecError{Item: item, Reason: "the delay is not a duration such as 500ms or 3s"}
				}
				if d <= 0 {
					return Faults{}, &FaultSpecError{Item: item, Reason: "the delay must be positive"}
				}
				f.Delay = d
			}
		case "checkout":
			f.CheckoutError = true
		case "js-error":
			f.JSError = true
		case "missing-help":
			f.MissingHelp = true
		case "mobile-overflow":
			f.MobileOverflow = true
		case "a11y":
			f.A11y = true
		case "layout":
			f.Layout = true
		case "none":
			return Faults{}, &FaultSpecError{Item: item, Reason: "none cannot be combined with other faults"}
		case "":
			return Faults{}, &FaultSpecError{Item: item, Reason: "empty item"}
		default:
			return Faults{}, &FaultSpecError{Item: item, Reason: "unknown fault"}
		}
	}
	return f, nil
}

// String returns the spec that ParseFaults turns back into f, or "none".
func (f Faults) String() string {
	var items []string
	switch {
	case f.Delay == defaultSlowDelay:
		items = append(items, "slow")
	case f.Delay != 0:
		items = append(items, "slow="+f.Delay.String())
	}
	if f.CheckoutError {
		items = append(items, "checkout")
	}
	if f.JSError {
		items = append(items, "js-error")
	}
	if f.MissingHelp {
		items = append(items, "missing-help")
	}
	if f.MobileOverflow {
		items = append(items, "mobile-overflow")
	}
	if f.A11y {
		items = append(items, "a11y")
	}
	if f.Layout {
		items = append(items, "layout")
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ",")
}
