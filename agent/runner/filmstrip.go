package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	frameInterval  = 100 * time.Millisecond
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

// filmstripRecorder records the tab's screencast. Chrome sends a frame
// when the page's picture changes and waits for each to be acknowledged
// before it sends more than a few: the acknowledgements are paced at the
// frame interval, so that an animation that never stops (a spinner) costs
// Chrome ten small JPEGs a second, not sixty. Frames that still come
// closer than the interval are dropped.
type filmstripRecorder struct {
	start time.Time
	step  func() string
	t     *chromedp.Target

	in   chan *page.EventScreencastFrame
	done chan struct{}

	mu      sync.Mutex
	frames  []frame
	dropped int // the oldest frames left out past maxFrames
	stopped bool
}

// recordFilmstrip starts the tab's screencast when the run may keep its
// filmstrip; it returns nil when it does not, or when Chrome refuses.
func (r *Runner) recordFilmstrip(tabCtx context.Context, ev *tracker, f *scenarios.Flow, start time.Time) *filmstripRecorder {
	if r.Filmstrip != FilmstripOnFailure && r.Filmstrip != FilmstripAlways || r.ArtifactsDir == "" {
		return nil
	}
	fr := &filmstripRecorder{start: start, step: ev.currentStep,
		in: make(chan *page.EventScreencastFrame, 8), done: make(chan struct{})}
	// The listener only hands the frame over: a command sent from
	// chromedp's event loop would wait for an answer that loop delivers.
	if err := chromedp.Listen(tabCtx, func(ev any) {
		if e, ok := ev.(*page.EventScreencastFrame); ok {
			select {
			case fr.in <- e:
			default: // unacknowledged, Chrome sends no more than a few
			}
		}
	}); err != nil {
		r.logger().Warn("recording the run's filmstrip", "flow", f.Name, "err", err)
		return nil
	}
	t := chromedp.FromContext(tabCtx).Target
	fr.t = t
	go fr.loop(tabCtx)
	quality, sendLast := int64(frameQuality), true
	_, err := cdp.Call(tabCtx, t, page.StartScreencast, page.StartScreencastParams{
		Format: page.StartScreencastFormatJpeg, Quality: &quality,
		MaxWidth: frameMaxWidth, MaxHeight: frameMaxHeight, MaxFramesInFlight: 1,
		// The frame of a change made while the last one waits for its
		// acknowledgement is sent then, not lost: the page's last state
		// (the spinner gone, or not) is in the strip.
		SendLastFrame: &sendLast})
	if err != nil {
		r.logger().Warn("recording the run's filmstrip", "flow", f.Name, "err", err)
		return nil // loop ends with the tab
	}
	return fr
}

// loop keeps and acknowledges the frames until the tab ends.
func (fr *filmstripRecorder) loop(tabCtx context.Context) {
	defer close(fr.done)
	var lastKept, lastAck time.Time
	for {
		var e *page.EventScreencastFrame
		select {
		case <-tabCtx.Done():
			return
		case e = <-fr.in:
		}
		// Paced by arrival; t is when Chrome drew the frame, which a
		// frame held back for its acknowledgement (SendLastFrame) gives.
		now, drawn := time.Now(), time.Now()
		if e.Metadata != nil && e.Metadata.Timestamp > 0 {
			drawn = time.UnixMicro(int64(e.Metadata.Timestamp.Float64() * 1e6))
		}
		if lastKept.IsZero() || now.Sub(lastKept) >= frameInterval-frameInterval/10 {
			if len(e.Data) > 0 { // the JPEG, decoded from base64 with the event
				lastKept = now
				fr.keep(frame{data: e.Data, t: max(drawn.Sub(fr.start).Seconds(), 0), step: fr.step()})
			}
		}
		if wait := frameInterval - time.Since(lastAck); wait > 0 {
			select {
			case <-tabCtx.Done():
				return
			case <-time.After(wait):
			}
		}
		lastAck = time.Now()
		if _, err := cdp.Call(tabCtx, fr.t, page.ScreencastFrameAck, page.ScreencastFrameAckParams{SessionID: e.SessionID}); err != nil && tabCtx.Err() != nil {
			return
		}
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
		fr.dropped++
	}
	fr.frames = append(fr.frames, f)
}

// stop ends the screencast and returns the frames, oldest first.
func (fr *filmstripRecorder) stop(tabCtx context.Context) []frame {
	fr.mu.Lock()
	fr.stopped = true
	frames := fr.frames
	fr.mu.Unlock()
	if tabCtx.Err() == nil {
		// Bounded: a page that stopped answering must not hold the
		// result; the tab's release ends the screencast anyway.
		ctx, cancel := context.WithTimeout(tabCtx, time.Second)
		_, _ = cdp.Call(ctx, fr.t, page.StopScreencast, cdp.Empty{})
		cancel()
	}
	return frames
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
func (r *Runner) saveFilmstrip(fr *filmstripRecorder, tabCtx context.Context, res *result.Result, f *scenarios.Flow, d scenarios.Device) {
	if fr == nil {
		return
	}
	frames := fr.stop(tabCtx)
	if !r.wantFilmstrip(res) || len(frames) == 0 {
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
