package browser

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestPipeline: the commands reach the page in order; each goes out
// before the one ahead of it is answered (the round trips overlap); the
// first error is returned after every command was answered; and the
// protocol log still reaches Options.Debugf.
func TestPipeline(t *testing.T) {
	var logMu sync.Mutex
	var log []string // the commands sent and the slow one's answer, in the order chromedp wrote and read them
	var slowID int64
	debugf := func(format string, args ...any) {
		raw, ok := args[0].([]byte)
		if !ok {
			return
		}
		var m struct {
			ID     int64  `json:"id"`
			Method string `json:"method"`
			Params struct {
				Expression string `json:"expression"`
			} `json:"params"`
		}
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		logMu.Lock()
		defer logMu.Unlock()
		switch {
		case format == "-> %s" && m.Method == runtime.CommandEvaluate:
			if strings.HasPrefix(m.Params.Expression, "window.order = ['slow']") {
				slowID = m.ID
			}
			log = append(log, "-> "+m.Params.Expression)
		case format == "<- %s" && m.Method == "" && m.ID > 0 && m.ID == slowID:
			log = append(log, "<- the slow one's answer")
		}
	}
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1, Debugf: debugf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	tab, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release(tab)
	target := chromedp.FromContext(tab.Ctx).Target
	yes := true
	eval := func(expr string) Command {
		return Command{Method: runtime.CommandEvaluate, Params: runtime.EvaluateParams{Expression: expr, AwaitPromise: &yes}}
	}
	logMu.Lock()
	log = nil
	logMu.Unlock()
	// The first answers after 300 ms; the others are quick but must not
	// run before it started.
	err = b.Pipeline(tab.Ctx, target,
		eval(`window.order = ['slow']; new Promise(r => setTimeout(r, 300))`),
		eval(`window.order.push('second')`),
		eval(`window.order.push('third')`),
	)
	if err != nil {
		t.Fatal(err)
	}
	order, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`window.order.join(',')`))
	if err != nil {
		t.Fatal(err)
	}
	if order != "slow,second,third" {
		t.Errorf("the page ran %q, want slow,second,third", order)
	}
	logMu.Lock()
	got := strings.Join(log, " | ")
	logMu.Unlock()
	// All three went out before the slow first one was answered.
	if !strings.HasPrefix(got, "-> window.order = ['slow']") || strings.Index(got, "-> window.order.push('third')") > strings.Index(got, "<- the slow one's answer") {
		t.Errorf("protocol log %q: want all three commands sent before the first one's answer", got)
	}

	// An error in the middle is returned, after the commands around it
	// were answered.
	err = b.Pipeline(tab.Ctx, target,
		eval(`window.order = ['first']`),
		Command{Method: "Runtime.noSuchMethod", Params: map[string]any{}},
		eval(`window.order.push('after')`),
	)
	if err == nil || !strings.Contains(err.Error(), "noSuchMethod") {
		t.Errorf("err = %v, want the unknown method's", err)
	}
	order, err = chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`window.order.join(',')`))
	if err != nil || order != "first,after" {
		t.Errorf("the page ran %q (%v), want first,after", order, err)
	}
}

// TestCommandOf reads the session and method of commands as chromedp
// writes them, not from their parameters.
func TestCommandOf(t *testing.T) {
	tests := []struct {
		msg, session, method string
	}{
		{`{"id":7,"sessionId":"S1","method":"Input.dispatchKeyEvent","params":{"type":"keyDown"}}`, "S1", "Input.dispatchKeyEvent"},
		{`{"id":8,"method":"Target.getTargets"}`, "", "Target.getTargets"},
		{`{"id":9,"sessionId":"S2","method":"Runtime.evaluate","params":{"expression":"x = {\"method\":\"Input.dispatchKeyEvent\"}"}}`, "S2", "Runtime.evaluate"},
		{`{"id":10,"sessionId":"S3","method":"Page.addScriptToEvaluateOnNewDocument","params":{"source":"\"sessionId\":\"other\""}}`, "S3", "Page.addScriptToEvaluateOnNewDocument"},
		{`not json`, "", ""},
	}
	for _, tt := range tests {
		session, method := commandOf([]byte(tt.msg))
		if session != tt.session || method != tt.method {
			t.Errorf("commandOf(%s) = %q, %q; want %q, %q", tt.msg, session, method, tt.session, tt.method)
		}
	}
}
