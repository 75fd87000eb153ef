package browser

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/chromedp/chromedp"
)

// Command is one protocol command of a Pipeline.
type Command struct {
	Method string
	Params any
}

// Pipeline sends the commands to t in order, each as soon as the one
// before has gone out to Chrome, without waiting for its answer, and then
// waits for all the answers; it returns the first error. Chrome handles a
// target's input commands in the order they arrive, so the page gets them
// in order while their round trips overlap. It is for the events of one
// gesture (a mouse's move, press and release; a finger's touch and lift;
// one keystroke's key down and up), which a person's hand sends as one:
// each waited for alone, a mouse move, which Chrome answers only with the
// next frame, cost a frame before the press.
//
// chromedp sends a call's command from the caller's goroutine before
// waiting for its answer, and gives no sign when it went out; the protocol
// log it writes for every command it sends is that sign, so a Browser
// always watches it (wire).
func (b *Browser) Pipeline(ctx context.Context, t *chromedp.Target, cmds ...Command) error {
	answers := make([]chan error, len(cmds))
	for i, c := range cmds {
		answered := make(chan error, 1)
		answers[i] = answered
		var sent <-chan struct{}
		stop := func() {}
		if i < len(cmds)-1 {
			sent, stop = b.wire.expect(string(t.SessionID), c.Method)
		}
		go func() { answered <- t.Call(ctx, c.Method, c.Params, nil) }()
		if sent != nil {
			select {
			case <-sent:
			case err := <-answered: // failed before it went out, or already answered
				answered <- err
			}
		}
		stop()
	}
	var first error
	for _, answered := range answers {
		if err := <-answered; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// wire watches the commands chromedp writes to Chrome (its protocol log)
// for Pipeline, and passes the log on to Options.Debugf.
type wire struct {
	forward func(string, ...any)
	watched atomic.Int32 // waiters registered; the log is only read while there are some
	mu      sync.Mutex
	waiters map[wireKey]chan struct{}
}

// wireKey names a command by its target's session and method. One
// goroutine sends a tab's input, one command at a time until it went out,
// so a waiter matches the command it was registered for.
type wireKey struct{ session, method string }

// expect returns a channel closed when the next command of the method goes
// out to the session, and a func that stops waiting for it.
func (w *wire) expect(session, method string) (<-chan struct{}, func()) {
	key := wireKey{session, method}
	ch := make(chan struct{})
	w.mu.Lock()
	if w.waiters == nil {
		w.waiters = map[wireKey]chan struct{}{}
	}
	w.waiters[key] = ch
	w.mu.Unlock()
	w.watched.Add(1)
	return ch, func() {
		w.mu.Lock()
		if w.waiters[key] == ch {
			delete(w.waiters, key)
		}
		w.mu.Unlock()
		w.watched.Add(-1)
	}
}

// debugf is chromedp's protocol logger: "-> %s" with each command as it is
// written to Chrome, "<- %s" with each message read.
func (w *wire) debugf(format string, args ...any) {
	if w.forward != nil {
		w.forward(format, args...)
	}
	if w.watched.Load() == 0 || format != "-> %s" || len(args) != 1 {
		return
	}
	msg, ok := args[0].([]byte)
	if !ok {
		return
	}
	session, method := commandOf(msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	key := wireKey{session, method}
	if ch, ok := w.waiters[key]; ok {
		delete(w.waiters, key)
		close(ch)
	}
}

// commandOf reads a command's session and method from its JSON without
// decoding its parameters, which come after them and may be large (a
// script of tens of kilobytes).
func commandOf(msg []byte) (session, method string) {
	head := msg
	if i := bytes.Index(msg, []byte(`"params":`)); i >= 0 {
		head = msg[:i]
	}
	return stringField(head, `"sessionId":"`), stringField(head, `"method":"`)
}

// stringField is the value of a JSON string field without escapes (ids and
// method names have none).
func stringField(msg []byte, prefix string) string {
	i := bytes.Index(msg, []byte(prefix))
	if i < 0 {
		return ""
	}
	rest := msg[i+len(prefix):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
