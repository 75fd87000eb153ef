package scenarios

import "context"

// Select chooses an option of a <select> by its value, else by its label
// as a person reads it, once the select can be used (visible, enabled and
// standing still), and fires the input and change events a person's choice
// fires. Two round trips, as before it had a file of its own: a
// navigation the change starts (a select that submits its form) is left to
// the next step's wait, which AwaitNavigation would ask the page for in a
// third.
type Select struct {
	Selector Selector
	Value    string
}

// chooseOption is what Select does to the element: the option by value,
// else by label or text, and the events of a choice.
const chooseOption = `(el, want) => {
  const u = window.__uxprobe;
  if (el.tagName !== 'SELECT') return { error: u.describe(el) + ' is not a <select>' };
  const opts = [...el.options];
  const opt = opts.find((o) => o.value === want) || opts.find((o) => u.norm(o.label) === want || u.norm(o.text) === want);
  if (!opt) return { error: 'no option ' + JSON.stringify(want) + ' in ' + u.describe(el) + '; options: ' + opts.map((o) => o.value).join(', ') };
  el.focus();
  el.value = opt.value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}`

func (a Select) Kind() string { return kindOf(a) }
func (a Select) Do(ctx context.Context, p Page) error {
	if _, err := p.Locate(ctx, a.Selector); err != nil {
		return err
	}
	return p.Apply(ctx, a.Selector, chooseOption, a.Value)
}
