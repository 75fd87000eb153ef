package runner

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// dragPages are the kinds of drag people build: a Kanban board of HTML5
// drag and drop, a sortable list that follows pointer events past a
// threshold (as the sortable libraries do), and a palette whose node is
// dropped on a canvas with mouse events (as Node-RED's is).
var dragPages = map[string]string{
	"/kanban": `<!doctype html><title>Board</title>
<style>.col{display:inline-block;vertical-align:top;width:200px;min-height:200px;margin:10px;padding:8px;background:#eee} .card{padding:8px;margin:4px;background:#fff;border:1px solid #999}</style>
<div class="col" id="todo"><h2>To do</h2><div class="card" id="card-1" draggable="true">Write tests</div><div class="card" id="card-2" draggable="true">Ship</div></div>
<div class="col" id="done"><h2>Done</h2></div>
<script>
for (const c of document.querySelectorAll('.card')) c.addEventListener('dragstart', (e) => e.dataTransfer.setData('text/plain', c.id));
const done = document.getElementById('done');
done.addEventListener('dragover', (e) => e.preventDefault());
done.addEventListener('drop', (e) => { e.preventDefault(); done.appendChild(document.getElementById(e.dataTransfer.getData('text/plain'))); });
</script>`,
	// The two sortable lists differ only in the half of an item where the
	// pointer puts the dragged one before it: at the very centre one puts
	// it after, the other before, as libraries differ.
	"/sortable":         sortableList(">=", "alpha", "beta", "gamma", "delta"),
	"/sortable-nearest": sortableList(">", "alpha", "beta", "gamma", "delta"),
	// Longer than the viewport: its 25th item is out of view while its
	// first is.
	"/long-list": sortableList(">=", longList...),
	"/palette": `<!doctype html><title>Flow editor</title>
<style>#palette{position:absolute;left:0;top:0;width:120px;height:300px;background:#ddd} .node{width:100px;height:30px;margin:8px;background:#a6bbcf} #canvas{position:absolute;left:140px;top:0;width:400px;height:300px;background:#fafafa}</style>
<div id="palette"><div class="node" id="inject">inject</div><div class="node" id="debug">debug</div></div>
<div id="canvas"></div><p id="nodes" style="position:absolute;top:320px"></p>
<script>
let dragging = null, ghost = null;
for (const n of document.querySelectorAll('#palette .node')) n.addEventListener('mousedown', (e) => { dragging = n.id; e.preventDefault(); });
document.addEventListener('mousemove', (e) => {
  if (!dragging || !(e.buttons & 1)) return;
  if (!ghost) { ghost = document.createElement('div'); ghost.className = 'node'; ghost.style.position = 'absolute'; ghost.style.pointerEvents = 'none'; document.body.appendChild(ghost); }
  ghost.style.left = e.clientX + 'px'; ghost.style.top = e.clientY + 'px';
});
document.addEventListener('mouseup', (e) => {
  const c = document.getElementById('canvas').getBoundingClientRect();
  if (dragging && ghost && e.clientX >= c.left && e.clientX <= c.right && e.clientY >= c.top && e.clientY <= c.bottom) {
    document.getElementById('nodes').textContent += dragging + ' ';
  }
  if (ghost) ghost.remove();
  dragging = null; ghost = null;
});
</script>`,
}

var longList = func() []string {
	var items []string
	for i := 1; i <= 30; i++ {
		items = append(items, fmt.Sprintf("item%02d", i))
	}
	return items
}()

// longListMovedTo is the long list's order with its first item moved
// before or after its 25th: the item lands next to its target in either
// case, as Chrome's scroll anchoring moves the list when the item leaves
// its top in view.
func longListMovedTo() string {
	before := append(append(append([]string{}, longList[1:24]...), "item01"), longList[24:]...)
	after := append(append(append([]string{}, longList[1:25]...), "item01"), longList[25:]...)
	return "^(" + strings.Join(before, ",") + "|" + strings.Join(after, ",") + ")$"
}

// sortableList is a list that follows pointer events past a threshold, as
// the sortable libraries do, and puts the dragged item after the one under
// the pointer when e.clientY <after> the item's middle.
func sortableList(after string, items ...string) string {
	return `<!doctype html><title>List</title>
<style>ul{list-style:none;padding:0;width:240px;touch-action:none} li{height:40px;line-height:40px;margin:2px 0;padding:0 8px;background:#def;user-select:none}</style>
<ul id="list"><li>` + strings.Join(items, "</li><li>") + `</li></ul>
<p id="order"></p>
<script>
const list = document.getElementById('list');
const show = () => { document.getElementById('order').textContent = [...list.children].map((li) => li.textContent).join(','); };
show();
let held = null, start = null, moving = false;
list.addEventListener('pointerdown', (e) => { held = e.target.closest('li'); start = { x: e.clientX, y: e.clientY }; moving = false; list.setPointerCapture(e.pointerId); });
list.addEventListener('pointermove', (e) => {
  if (!held) return;
  if (!moving && Math.hypot(e.clientX - start.x, e.clientY - start.y) < 5) return; // a click, not a drag
  moving = true;
  for (const li of list.children) {
    const r = li.getBoundingClientRect();
    if (li !== held && e.clientY >= r.top && e.clientY <= r.bottom) {
      list.insertBefore(held, e.clientY ` + after + ` r.top + r.height / 2 ? li.nextSibling : li);
      break;
    }
  }
});
list.addEventListener('pointerup', () => { if (moving) show(); held = null; });
</script>`
}

// TestDrag drags in real Chromium on each kind of page, and checks what
// the page made of it.
func TestDrag(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	for path, body := range dragPages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<link rel="icon" href="data:,">`+body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tests := []struct {
		name, steps string
		wantKind    scenarios.ErrorKind
		wantMsg     string
	}{
		{"HTML5 drag and drop", "- goto: ${u}/kanban\n- drag: {from: '#card-1', to: '#done'}\n- assert_text: {selector: '#done', contains: Write tests}\n  timeout: 2s\n- assert_text: {selector: '#todo', equals: To do Ship}", "", ""},
		{"a sortable list that follows the pointer", "- goto: ${u}/sortable\n- drag: {from: 'text=alpha', to: 'text=gamma'}\n- assert_text: {selector: '#order', equals: 'beta,gamma,alpha,delta'}\n  timeout: 2s", "", ""},
		// From takes To's place, up or down, whichever half of an item
		// the list counts its centre in.
		{"up a sortable list", "- goto: ${u}/sortable\n- drag: {from: 'text=delta', to: 'text=alpha'}\n- assert_text: {selector: '#order', equals: 'delta,alpha,beta,gamma'}\n  timeout: 2s", "", ""},
		{"down a list that puts an item before at the centre", "- goto: ${u}/sortable-nearest\n- drag: {from: 'text=alpha', to: 'text=gamma'}\n- assert_text: {selector: '#order', equals: 'beta,gamma,alpha,delta'}\n  timeout: 2s", "", ""},
		{"up a list that puts an item before at the centre", "- goto: ${u}/sortable-nearest\n- drag: {from: 'text=delta', to: 'text=beta'}\n- assert_text: {selector: '#order', equals: 'alpha,delta,beta,gamma'}\n  timeout: 2s", "", ""},
		// Each is scrolled into view as it is located: the item pressed
		// must be the one located last, not the one that took its place
		// on the screen.
		{"onto an item out of view", "- goto: ${u}/long-list\n- drag: {from: 'text=item01', to: 'text=item25'}\n- assert_text: {selector: '#order', matches: '" + longListMovedTo() + "'}\n  timeout: 2s", "", ""},
		{"a palette node dropped on a canvas", "- goto: ${u}/palette\n- drag: {from: '#debug', to: '#canvas'}\n- assert_text: {selector: '#nodes', equals: debug}\n  timeout: 2s", "", ""},
		{"a missing source", "- goto: ${u}/kanban\n- drag: {from: '#card-9', to: '#done'}\n  timeout: 300ms", scenarios.KindElementNotFound, "no element matches #card-9"},
		{"a missing target", "- goto: ${u}/kanban\n- drag: {from: '#card-1', to: '#nowhere'}\n  timeout: 300ms", scenarios.KindElementNotFound, "no element matches #nowhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runSteps(t, srv.URL, "", tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
		})
	}
}
