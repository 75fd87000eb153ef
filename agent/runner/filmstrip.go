package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// FilmstripMode says when a run's filmstrip is kept (--artifacts.filmstrip).
type FilmstripMode string

// The filmstrip modes. The zero value records none.
const (
	FilmstripOnFailure FilmstripMode = "on-failure"
	FilmstripAlways    FilmstripMode = "always"
	FilmstripNever     FilmstripMode = "never"
)

// ParseFilmstripMode checks a --artifacts.filmstrip value.
func ParseFilmstripMode(s string) (FilmstripMode, error) {
	switch m := FilmstripMode(s); m {
	case FilmstripOnFailure, FilmstripAlways, FilmstripNever:
		return m, nil
	}
	return "", fmt.Errorf("%q: want on-failure, always or never", s)
}

// The screencast's settings: small frames, as a filmstrip shows them, and
// at most ten a second, which is what a person tells apart when replaying
// a run and keeps the cost of an on-failure filmstrip (recorded on every
// run, kept on few) low.
const (
	frameMaxWidth  = 480
	frameMaxHeight = 960 // a phone's portrait screen at 480 px wide
	frameQuality   = 60
	// frameInterval is the shortest pause between frames: at most ten a
	// second. frameIntervalMax is the longest, while the page never
	// stops changing (see loop).
	frameInterval    = 100 * time.Millisecond
	frameIntervalMax = 500 * time.Millisecond
	// lastFrameWait bounds the wait for the last frame of a kept
	// filmstrip (see lastFrame).
	lastFrameWait = 500 * time.Millisecond
	// firstFrameWait is how long a started screencast may take to send
	// its first frame (see loop).
	firstFrameWait = 500 * time.Millisecond
	// onFailureStart is when an on-failure recording takes its first
	// frame: each capture costs Chrome about 10 ms of CPU, and most runs
	// pass, most of them within half a second (the demo shop's search in
	// 0.2 s, its checkout in 0.6 s), so such a run pays for one capture
	// at most, and a passing search for none. A failure worth a filmstrip
	// is a page the user waited on, pictured from then on at the usual
	// pace and up to the moment of the failure; one that failed sooner
	// has its last frame and its failure screenshot. always starts after
	// frameInterval, to show the page coming in.
	onFailureStart = 500 * time.Millisecond
	// maxFrames bounds the frames of a run that never stops changing:
	// the last ones are kept, since the end of a failed run is what is
	// looked at (the spinner that never went away).
	maxFrames = 150
	// filmstripDir holds the frames beside the run's screenshots.
	filmstripDir = "filmstrip"
)

// frame is one picture of the screencast.
type frame struct {
	data []byte
	t    float64 // seconds from the run's start
	step string
}

// filmstripRecorder records the tab's screencast. Chrome captures the
// page at every change while its screencast runs, up to 60 times a second,
// whether or not the frames are acknowledged: that capture is what costs.
// So the screencast runs only while the page is still: a frame that shows
// a change is kept, the screencast stops for a pause and starts again, and
// its first frame shows the page as it is by then. An animation that never
// stops (a spinner) costs at most ten captures a second, fewer as it goes
// on (see loop), a still page none.
type filmstripRecorder struct {
	start time.Time
	step  func() string
	t     *chromedp.Target
	// first is the pause before the first frame.
	first time.Duration

	in   chan *page.EventScreencastFrame
	quit chan struct{}
	done chan struct{}
	once sync.Once

	final atomic.Bool // stop wants a last frame

	mu      sync.Mutex
	frames  []frame
	stopped bool
}

// recordFilmstrip records the tab's screencast when the run may keep its
// filmstrip; it returns nil when it does not.
func (r *Runner) recordFilmstrip(tabCtx context.Context, ev *tracker, f *scenarios.Flow, start time.Time) *filmstripRecorder {
	if r.Filmstrip != FilmstripOnFailure && r.Filmstrip != FilmstripAlways || r.ArtifactsDir == "" {
		return nil
	}
	fr := &filmstripRecorder{start: start, step: ev.currentStep, t: chromedp.FromContext(tabCtx).Target, first: frameInterval,
		in: make(chan *page.EventScreencastFrame, 8), quit: make(chan struct{}), done: make(chan struct{})}
	if r.Filmstrip == FilmstripOnFailure {
		fr.first = onFailureStart
	}
	// The listener only hands the frame over: a command sent from
	// chromedp's event loop would wait for an answer that loop delivers.
	if err := chromedp.Listen(tabCtx, func(ev any) {
		if e, ok := ev.(*page.EventScreencastFrame); ok {
			select {
			case fr.in <- e:
			default: // unacknowledged, Chrome sends no more than one
			}
		}
	}); err != nil {
		r.logger().Warn("recording the run's filmstrip", "flow", f.Name, "err", err)
		return nil
	}
	go fr.loop(tabCtx)
	return fr
}

// castBound bounds a screencast command: a page that stopped answering
// must not hold the run.
const castBound = time.Second

func (fr *filmstripRecorder) startCast(tabCtx context.Context) error {
	ctx, cancel := context.WithTimeout(tabCtx, castBound)
	defer cancel()
	quality := int64(frameQuality)
	_, err := cdp.Call(ctx, fr.t, page.StartScreencast, page.StartScreencastParams{
		Format: page.StartScreencastFormatJpeg, Quality: &quality,
		MaxWidth: frameMaxWidth, MaxHeight: frameMaxHeight, MaxFramesInFlight: 1})
	return err
}

func (fr *filmstripRecorder) ack(tabCtx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(tabCtx, castBound)
	defer cancel()
	_, _ = cdp.Call(ctx, fr.t, page.ScreencastFrameAck, page.ScreencastFrameAckParams{SessionID: id})
}

func (fr *filmstripRecorder) stopCast(tabCtx context.Context) {
	ctx, cancel := context.WithTimeout(tabCtx, castBound)
	defer cancel()
	_, _ = cdp.Call(ctx, fr.t, page.StopScreencast, cdp.Empty{})
}

// loop keeps the frames that show a change, pausing the screencast after
// each, until the run stops it or the tab ends. The pause grows threefold,
// up to frameIntervalMax (100, 300, 500 ms), while the page has changed
// during every pause (a spinner, a run of steps that each change the
// page), and is back at frameInterval once a pause passed with no change:
// a page that keeps changing costs about two captures a second, not ten,
// and the first change after a still moment is pictured at once. (While
// it runs, the screencast captures every change until it is stopped, a
// round trip after the frame it sent: its cost is the number of starts.)
func (fr *filmstripRecorder) loop(tabCtx context.Context) {
	defer close(fr.done)
	var last []byte
	pause := frameInterval
	fresh := false // the next frame is the first after a pause
	take := func(e *page.EventScreencastFrame) bool {
		if len(e.Data) == 0 || bytes.Equal(e.Data, last) {
			return false
		}
		last = e.Data // the JPEG, decoded from base64 with the event
		drawn := time.Now()
		if e.Metadata != nil && e.Metadata.Timestamp > 0 {
			drawn = time.UnixMicro(int64(e.Metadata.Timestamp.Float64() * 1e6))
		}
		fr.keep(frame{data: e.Data, t: max(drawn.Sub(fr.start).Seconds(), 0), step: fr.step()})
		return true
	}
	// rest waits out a pause with the screencast stopped, then starts it
	// again; false when the recording ended meanwhile (with the last
	// frame taken, when asked for).
	rest := func(d time.Duration) bool {
		select {
		case <-tabCtx.Done():
			return false
		case <-fr.quit:
			if fr.final.Load() {
				fr.lastFrame(tabCtx, take)
			}
			return false
		case <-time.After(d):
		}
		return fr.startCast(tabCtx) == nil || tabCtx.Err() == nil
	}
	// The screencast starts after a first pause: the tab is blank until
	// the first step's page paints, and a capture of it would cost as
	// much as any other. The pauses after it start short.
	if !rest(fr.first) {
		return
	}
	fresh = true
	for {
		// A screencast started sends the page as it is at once; one
		// started as the tab changed documents may send nothing, until
		// it is started again.
		var restart <-chan time.Time
		if fresh {
			restart = time.After(firstFrameWait)
		}
		var e *page.EventScreencastFrame
		select {
		case <-tabCtx.Done():
			return
		case <-restart:
			fr.stopCast(tabCtx)
			if fr.startCast(tabCtx) != nil && tabCtx.Err() != nil {
				return
			}
			continue
		case <-fr.quit:
			// The screencast runs: the page is as the last frame shows
			// it, unless a frame is on its way, or the screencast was
			// started again and has sent nothing yet.
			select {
			case e := <-fr.in:
				take(e)
			default:
				if fresh && fr.final.Load() {
					fr.stopCast(tabCtx)
					fr.lastFrame(tabCtx, take)
					return
				}
			}
			fr.stopCast(tabCtx)
			return
		case e = <-fr.in:
		}
		if !take(e) {
			// The page as it was: wait for a change. (The first frame
			// after a pause, when nothing moved during it.)
			if fresh {
				pause = frameInterval
			}
			fresh = false
			fr.ack(tabCtx, e.SessionID)
			continue
		}
		if fresh {
			pause = min(3*pause, frameIntervalMax)
		}
		fr.stopCast(tabCtx)
		if !rest(pause) {
			return
		}
		fresh = true
	}
}

// lastFrame pictures the page as the run left it, when the run stopped
// the recorder during a pause: a kept filmstrip ends on the moment of the
// failure, not up to a pause before it.
func (fr *filmstripRecorder) lastFrame(tabCtx context.Context, take func(*page.EventScreencastFrame) bool) {
	for drained := false; !drained; { // a frame of before the pause
		select {
		case <-fr.in:
		default:
			drained = true
		}
	}
	if fr.startCast(tabCtx) != nil {
		return
	}
	defer fr.stopCast(tabCtx)
	select {
	case e := <-fr.in:
		take(e)
	case <-time.After(lastFrameWait):
	case <-tabCtx.Done():
	}
}

func (fr *filmstripRecorder) keep(f frame) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.stopped {
		return
	}
	if len(fr.frames) == maxFrames {
		copy(fr.frames, fr.frames[1:])
		fr.frames = fr.frames[:maxFrames-1]
	}
	fr.frames = append(fr.frames, f)
}

// stop ends the screencast and returns the frames, oldest first; with
// final, the frames end on the page as it is now.
func (fr *filmstripRecorder) stop(final bool) []frame {
	fr.once.Do(func() {
		fr.final.Store(final)
		close(fr.quit)
	})
	select {
	case <-fr.done:
	case <-time.After(2 * castBound): // a command to a frozen page
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.stopped = true
	return fr.frames
}

// wantFilmstrip reports whether the run's frames are to be kept.
func (r *Runner) wantFilmstrip(res *result.Result) bool {
	switch r.Filmstrip {
	case FilmstripAlways:
		return true
	case FilmstripOnFailure:
		return !res.Success
	}
	return false
}

// saveFilmstrip stops the screencast and, when the run keeps its
// filmstrip, writes the frames beside its screenshots, through the same
// path as they (names masked, a failure to write logged and counted), and
// lists them in the result.
func (r *Runner) saveFilmstrip(fr *filmstripRecorder, res *result.Result, f *scenarios.Flow, d scenarios.Device) {
	if fr == nil {
		return
	}
	want := r.wantFilmstrip(res)
	frames := fr.stop(want)
	if !want || len(frames) == 0 {
		return
	}
	shot, err := r.screenshotPath(f, d)("x")
	if err != nil {
		return
	}
	// The frames replace the last kept filmstrip of the flow on the
	// device, as its screenshots do theirs, so that the directory stays
	// bounded; the history has kept the earlier run's copy.
	dir := filepath.Join(filepath.Dir(shot), filmstripDir)
	_ = os.RemoveAll(dir)
	for i, fm := range frames {
		path := filepath.Join(dir, fmt.Sprintf("frame-%03d.jpg", i+1))
		if r.saveArtifact(f, d, path, fm.data) {
			res.Filmstrip = append(res.Filmstrip, result.Frame{Path: path, T: round3(fm.t), Step: fm.step})
		}
	}
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
