// uxprobe's web vitals observers. Installed in every document before its own
// scripts (with helper.js), so they see the whole life of the page. They
// push every change to the runner through the __uxprobeReport binding
// rather than waiting to be asked: a read that would queue behind the
// page's long tasks, or come after the page was left, would lose values
// the browser had reported.
(() => {
  if (window.__uxprobeVitals) return;
  // Taken now, before the page's scripts can replace it.
  const send = typeof window.__uxprobeReport === 'function' ? window.__uxprobeReport : null;

  const doc = Math.random().toString(36).slice(2);
  const st = {
    fcp: null, lcp: null, lcpEl: '', lcpSize: 0, cls: 0, shifts: 0,
    clsOk: false, longOk: false,
  };
  // inputs are the trusted inputs the page received: in a headless tab
  // they are uxprobe's own. d is the latency of the interaction the input
  // started (Event Timing duration), null until the browser reports it;
  // end is when the latest of its entries ended (start plus duration).
  const inputs = [];
  const maxInputs = 200;
  const longTasks = [];
  const maxLongTasks = 1000;
  let firstInput = Infinity;
  // lastActivity is when something last arrived or happened that a new
  // paint, LCP candidate or Event Timing entry may still follow (the
  // document, an image, font, style sheet or script, an input); lastEntry
  // is when the browser last reported an entry, a sign that the page is
  // still changing.
  let lastActivity = 0, lastEntry = 0;
  const touch = (t) => { lastActivity = Math.max(lastActivity, t === undefined ? performance.now() : t); };
  const entry = () => { lastEntry = performance.now(); };

  // selector names an element for a person: its id if it has one, else a
  // short path of tag names with their position among siblings.
  const selector = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
      const tag = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(tag + '#' + e.id); break; }
      if (tag === 'html' || tag === 'body') { parts.unshift(tag); break; }
      let i = 1;
      for (let s = e.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === e.tagName) i++;
      parts.unshift(i > 1 ? tag + ':nth-of-type(' + i + ')' : tag);
    }
    return parts.join(' > ');
  };
  // lcpName names an LCP entry's element always: Chrome gives no element
  // for one that left the page or sits in a shadow root (open or not),
  // but still its id and, for an image, its URL.
  const lcpName = (e) => {
    if (e.element) return selector(e.element);
    if (e.id) return '#' + e.id;
    if (e.url) return e.url.length > 200 ? e.url.slice(0, 200) + '…' : e.url;
    return '(an element no longer in the page)';
  };

  const candidates = new WeakSet(); // elements Chrome reported as LCP candidates

  const inputBefore = (t) => {
    for (let i = inputs.length - 1; i >= 0; i--) if (inputs[i].t <= t + 1) return i;
    return -1;
  };

  const onInput = (e) => {
    if (!e.isTrusted) return;
    if (inputs.length < maxInputs) inputs.push({ t: e.timeStamp, d: null, end: 0 });
    if (e.timeStamp < firstInput) firstInput = e.timeStamp;
    touch();
    schedule();
  };
  // pointerdown and keydown start the interactions Event Timing groups;
  // beforeinput is the only trusted event of text inserted without keys,
  // as uxprobe's fill does.
  for (const type of ['pointerdown', 'keydown', 'beforeinput']) {
    addEventListener(type, onInput, { capture: true, passive: true });
  }

  const observers = [];
  const observe = (type, opts, fn) => {
    try {
      const o = new PerformanceObserver((list) => { fn(list.getEntries()); schedule(); });
      o.observe(Object.assign({ type, buffered: true }, opts));
      observers.push([o, fn]);
      return true;
    } catch (e) {
      return false;
    }
  };

  observe('paint', {}, (entries) => {
    for (const e of entries) if (e.name === 'first-contentful-paint') { st.fcp = e.startTime; entry(); }
  });
  // LCP as Chrome and web-vitals define it: the last candidate before the
  // page's first input. Chrome stops reporting candidates once it handled
  // the input, and web-vitals takes all it reported: a paint already on
  // its way when the input came is reported with a render time after the
  // input's time stamp, and is still the page's LCP (a tap just as the hero
  // landed).
  observe('largest-contentful-paint', {}, (entries) => {
    for (const e of entries) {
      st.lcp = e.startTime;
      st.lcpEl = lcpName(e);
      st.lcpSize = e.size;
      if (e.element) candidates.add(e.element);
      entry();
    }
  });
  // CLS as web-vitals defines it: the largest session window of shifts
  // (gaps under 1 s, windows at most 5 s) without recent input. Chrome's
  // hadRecentInput is believed only when an input came in the 500 ms
  // before the shift: under mobile emulation Chrome flags shifts of the
  // first moments of a page although nothing touched it.
  let cur = 0, first = 0, last = 0;
  st.clsOk = observe('layout-shift', {}, (entries) => {
    for (const e of entries) {
      st.shifts++;
      entry();
      if (e.hadRecentInput) {
        const i = inputBefore(e.startTime);
        if (i >= 0 && e.startTime - inputs[i].t <= 500) continue;
      }
      if (cur && e.startTime - last < 1000 && e.startTime - first < 5000) {
        cur += e.value;
      } else {
        cur = e.value;
        first = e.startTime;
      }
      last = e.startTime;
      if (cur > st.cls) st.cls = cur;
    }
  });
  st.longOk = observe('longtask', {}, (entries) => {
    for (const e of entries) if (longTasks.length < maxLongTasks) longTasks.push([e.startTime, e.duration]);
  });
  // An entry belongs to the latest input at or before it. Entries of a
  // pointer or key interaction carry an interactionId; beforeinput and
  // input entries of inserted text do not.
  const onEvents = (entries) => {
    for (const e of entries) {
      if (!e.interactionId && e.name !== 'beforeinput' && e.name !== 'input' && e.entryType !== 'first-input') continue;
      const i = inputBefore(e.startTime);
      if (i < 0) continue;
      if (inputs[i].d === null || e.duration > inputs[i].d) inputs[i].d = e.duration;
      inputs[i].end = Math.max(inputs[i].end, e.startTime + e.duration);
    }
  };
  observe('event', { durationThreshold: 16 }, onEvents);
  // first-input is reported whatever its duration, so the first
  // interaction has a value even when it was faster than the threshold.
  observe('first-input', {}, onEvents);

  // Soft navigations: a single-page app that changes its URL and content
  // after an input, without a new document. Chrome reports each with its
  // own LCP candidates (interaction-contentful-paint), so that its view is
  // measured like a page; input ties it to the input, and so the step,
  // that caused it. Chrome goes on reporting candidates through later
  // inputs: all are sent (at most maxCands) with the inputs' times, and
  // the runner keeps those before the next input (pagelog's viewLCP).
  const soft = new Map();
  const maxSoft = 20;
  const maxCands = 8;
  const softNav = (id) => {
    let s = soft.get(id);
    if (!s && soft.size < maxSoft) { s = { id, url: '', start: null, cands: [], input: -1 }; soft.set(id, s); }
    return s;
  };
  observe('soft-navigation', { includeSoftNavigationObservations: true }, (entries) => {
    for (const e of entries) {
      const s = softNav(e.navigationId);
      if (!s) continue;
      s.url = e.name;
      s.start = e.startTime;
      s.input = inputBefore(e.startTime);
      touch();
    }
  });
  // Chrome's heuristics miss views now and then (a busy machine, a view
  // drawn after a fetch): a URL change without a new document after an
  // input is a view too, so that the same flow gives the same pages
  // every run. Chrome's entry, when it comes, brings its LCP.
  const own = [];
  let lastUrl = location.href;
  const urlChanged = () => {
    const u = location.href;
    if (u === lastUrl) return;
    lastUrl = u;
    if (!inputs.length || own.length >= maxSoft) return;
    own.push({ url: u, start: performance.now(), input: inputs.length - 1 });
    touch();
    schedule();
  };
  try { navigation.addEventListener('currententrychange', urlChanged); } catch (e) {}
  addEventListener('popstate', urlChanged);
  addEventListener('hashchange', urlChanged);
  observe('interaction-contentful-paint', { includeSoftNavigationObservations: true }, (entries) => {
    for (const e of entries) {
      const c = e.largestContentfulPaint;
      const s = c && softNav(e.navigationId);
      if (!s) continue;
      // Past the cap the last is replaced, unless an input came between
      // the view's start and the candidate: that one is not the view's.
      const cand = [c.startTime, lcpName(c)];
      const late = s.start !== null && inputs.some((i) => i.t > s.start + 1 && i.t <= c.startTime);
      if (s.cands.length < maxCands) s.cands.push(cand); else if (!late) s.cands[maxCands - 1] = cand;
      entry();
    }
  });

  // flush hands the observers what the browser queued but has not
  // dispatched yet.
  const flush = () => {
    for (const [o, fn] of observers) {
      try {
        const r = o.takeRecords();
        if (r.length) fn(r);
      } catch (e) {}
    }
  };

  const snapshot = () => {
    const n = performance.getEntriesByType('navigation')[0];
    const r = { doc, url: location.href, now: performance.now(), inputs: inputs.map((i) => i.d), inputAt: inputs.map((i) => i.t) };
    if (n) {
      r.status = n.responseStatus || 0;
      if (n.responseStart > 0) r.ttfb = n.responseStart;
      if (n.domContentLoadedEventEnd > 0) r.dcl = n.domContentLoadedEventEnd;
      if (n.loadEventEnd > 0) r.load = n.loadEventEnd;
    }
    if (st.fcp !== null) r.fcp = st.fcp;
    if (st.lcp !== null) { r.lcp = st.lcp; r.lcpEl = st.lcpEl; }
    const softs = [...soft.values()].filter((s) => s.start !== null);
    // The views Chrome did not report, in their place among those it did.
    const told = softs.map((s) => s.url);
    for (const o of own) {
      const i = told.indexOf(o.url);
      if (i >= 0) { told[i] = null; continue; }
      softs.push({ url: o.url, start: o.start, cands: [], input: o.input });
    }
    softs.sort((a, b) => a.start - b.start);
    if (softs.length) r.soft = softs.map(({ url, start, cands, input }) => ({ url, start, cands, input }));
    if (st.clsOk && r.load) { r.cls = st.cls; r.shifts = st.shifts; }
    if (st.longOk && st.fcp !== null) {
      // Total blocking time from FCP on: a task's time beyond 50 ms, only
      // the part after FCP of a task that spans it.
      let tbt = 0;
      for (const [s, d] of longTasks) {
        const from = Math.max(s, st.fcp);
        if (s + d - from > 50) tbt += s + d - from - 50;
      }
      r.tbt = tbt;
    }
    return r;
  };

  const report = () => {
    if (!send) return;
    try { send(JSON.stringify(snapshot())); } catch (e) {}
  };
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    setTimeout(() => { queued = false; report(); }, 0);
  };
  // The document's last word as it is left: entries still queued, and a
  // report that a pending timer would not get to send.
  addEventListener('pagehide', () => { flush(); report(); }, { capture: true });
  addEventListener('load', () => { setTimeout(report, 0); });
  // An image's or font's arrival is a moment a new LCP candidate may follow.
  addEventListener('load', (e) => { if (e.target && e.target.tagName === 'IMG') arrived(e.target); }, { capture: true });
  try { document.fonts.addEventListener('loadingdone', () => touch()); } catch (e) {}
  // Resource Timing says when each of the page's resources arrived, CSS
  // background images and fonts included, which no event announces.
  observe('navigation', {}, (entries) => { for (const e of entries) touch(e.responseEnd); });
  observe('resource', {}, (entries) => {
    for (const e of entries) {
      if (e.initiatorType === 'beacon') continue;
      touch(e.responseEnd);
      if (e.initiatorType === 'img') shadowCheck(e.name);
    }
  });

  // An image inside a shadow root is not in document.images, and its load
  // event does not leave the shadow root, so the read would not wait for
  // its decoding and candidate as it does for others. When an image
  // arrives that the document does not hold, the open shadow roots are
  // searched for it once, for every such arrival of the moment together.
  const shadowURLs = new Set();
  const shadowCheck = (url) => {
    for (const img of document.images) if (img.currentSrc === url || img.src === url) return;
    if (!shadowURLs.size) setTimeout(shadowScan, 0);
    shadowURLs.add(url);
  };
  const shadowScan = () => {
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (!el.shadowRoot) continue;
        for (const img of el.shadowRoot.querySelectorAll('img')) {
          if (!shadowURLs.has(img.currentSrc) && !shadowURLs.has(img.src)) continue;
          if (img.complete) arrived(img); else loading.add(img);
        }
        walk(el.shadowRoot);
      }
    };
    try { walk(document); } catch (e) {}
    shadowURLs.clear();
  };
  const inViewport = (el) => {
    const r = el.getBoundingClientRect();
    return r.bottom >= 0 && r.right >= 0 && r.top <= innerHeight && r.left <= innerWidth;
  };
  // lazyShown: a lazy image is fetched only once it is rendered near the
  // viewport, so one that is not rendered (display: none, a closed
  // details) is never waited for: it would hold the read to its bound.
  // One rendered in the viewport is fetched as soon as it is laid out,
  // even before it has a size of its own, and is waited for as an eager
  // one is: a lazy hero is the page's largest content all the same.
  const lazyShown = (img) => {
    if (!img.getClientRects().length) return false;
    try { return !img.checkVisibility || img.checkVisibility(); } catch (e) { return true; }
  };
  // pending names what may still bring a new LCP candidate or shift. An
  // image is complete as soon as its data is there, before it is decoded
  // and painted: an image that arrived is pending until it is decoded, and
  // its decoding counts as activity, so that the quiet period runs from
  // then. Only images that arrived while the page was watched are waited
  // for: one decoded long ago has been painted.
  const loading = new Set();
  const decoding = new Set();
  // expected are decoded images Chrome will report as LCP candidates:
  // larger in the viewport than the current LCP, and not of the low
  // entropy Chrome ignores (under 0.05 bits per displayed pixel). Their
  // candidate can come well after the decoding on a busy machine, so the
  // read waits for it, for at most expectMs.
  // A busy machine slows the candidate's dispatch as it slows frames, so
  // the wait lasts expectMs and expectFrames of the read's frames, at most
  // expectMaxMs: on a quiet machine the frames pass well within expectMs.
  const expected = new Map(); // image -> {at, frame}: when it was decoded
  const expectMs = 1000;
  const expectFrames = 30;
  const expectMaxMs = 3000;
  let readFrames = 0; // frames the final reads waited for (settle)
  const shown = (img) => {
    const r = img.getBoundingClientRect();
    const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
    const h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return w > 0 && h > 0 ? w * h : 0;
  };
  const bigEnough = (img) => {
    const area = shown(img);
    if (area <= st.lcpSize * 1.2) return false;
    const res = performance.getEntriesByName(img.currentSrc)[0];
    const bytes = res ? res.encodedBodySize : 0;
    return !bytes || (bytes * 8) / area >= 0.05; // unknown (cross-origin): assume it counts
  };
  const arrived = (img) => {
    touch();
    if (decoding.has(img) || !img.decode) return;
    decoding.add(img);
    const done = () => {
      decoding.delete(img);
      touch();
      if (firstInput === Infinity && bigEnough(img)) expected.set(img, { at: performance.now(), frame: readFrames });
    };
    img.decode().then(done, done);
  };
  const awaitingCandidate = () => {
    const now = performance.now();
    for (const [img, { at, frame }] of expected) {
      const late = (now - at > expectMs && readFrames - frame > expectFrames) || now - at > expectMaxMs;
      if (candidates.has(img) || firstInput !== Infinity || late || !img.isConnected || !bigEnough(img)) expected.delete(img);
    }
    return expected.size > 0;
  };
  // The first input always gets a first-input entry, whatever its
  // duration; later ones only when they took 16 ms or more.
  const awaitingFirstInput = () => inputs.length > 0 && inputs[0].d === null && performance.now() - inputs[0].t < expectMs;
  // A later input gets an entry only when it took 16 ms or more, and then
  // only after the paint that followed it: one that a long task answered
  // (its handler blocked) is sure to get one that ends after the task, so
  // the read waits for it, for at most expectMs after that task. A quick
  // input is not waited for. The first input counts too: its first-input
  // entry is the pointerdown's, which may paint quickly, while the click
  // of the same tap is the one the task answered and comes later.
  const awaitingSlowInput = () => {
    const now = performance.now();
    for (let i = inputs.length - 1; i >= 0; i--) {
      const inp = inputs[i];
      if (now - inp.t > expectMaxMs) break;
      for (let j = longTasks.length - 1; j >= 0; j--) {
        const [s, d] = longTasks[j];
        if (s + d < inp.t) break;
        // Durations are rounded to 8 ms: an entry that ends within 16 ms
        // of the task covers it.
        if (s <= inp.t + 100 && inp.end < s + d - 16 && now - (s + d) < expectMs) return true;
      }
    }
    return false;
  };
  // viewUnseen: the latest input opened a view that has no LCP candidate
  // yet; see painted.
  const ownViewMs = 100;
  const viewUnseen = () => {
    const last = inputs.length - 1;
    if (last < 0) return false;
    let chrome = false;
    for (const s of soft.values()) {
      if (s.input !== last || s.start === null) continue;
      if (s.cands.length) return false;
      chrome = true;
    }
    if (chrome) return true;
    const o = own[own.length - 1];
    return o !== undefined && o.input === last && performance.now() - o.start < ownViewMs;
  };
  const pending = () => {
    for (const img of loading) {
      if (img.complete) { loading.delete(img); arrived(img); }
    }
    if (document.readyState !== 'complete') return 'load';
    if (decoding.size) return 'decoding';
    if (awaitingCandidate()) return 'candidate';
    if (awaitingFirstInput()) return 'first-input';
    if (awaitingSlowInput()) return 'input';
    try { if (document.fonts.status === 'loading') return 'fonts'; } catch (e) {}
    let what = '';
    for (const img of document.images) {
      if (!img.complete && inViewport(img) && (img.loading !== 'lazy' || lazyShown(img))) { loading.add(img); what = 'images'; }
    }
    return what;
  };
  const frame = () => new Promise((r) => { requestAnimationFrame(() => r()); setTimeout(r, 50); });
  // quietMs: how long after the last arrival or input the page counts as
  // settled, unless an LCP candidate painted after it already came: a
  // paint's candidate is dispatched a few frames after the image or font
  // that caused it arrived, and one that does not grow LCP brings none.
  // entryQuietMs: how long after the last entry, a few frames, so that a
  // page whose shifts go on is not settled, and so that the page's own
  // observers, which Chrome calls in a task of their own after the read
  // took the entries, have run: a page that starts work when it sees its
  // first paint (a 2 s task) had not started it 16 ms after, under load.
  // quietFrames: and how many frames, which a busy machine slows as it
  // slows the paint.
  const quietMs = 60;
  const quietFrames = 4;
  const entryQuietMs = 30;
  const paintMs = 250;
  const frozenMs = 150; // a gap between two frames of the wait that only a long task explains

  window.__uxprobeVitals = {
    doc,
    inputs: () => inputs.length,
    // settle waits until the browser has nothing more to report about the
    // page, at most boundMs: loaded, fonts and the images in the viewport
    // arrived, FCP and LCP reported (for at most paintMs), and quiet since
    // the last of these. It resolves to whether the page settled, and
    // reports.
    settle: async (boundMs) => {
      const t0 = performance.now();
      let frames = 0, settled = false, paintFrom = t0, prev = t0;
      // Frames since the last activity; a page quiet for long has no
      // frames to wait for.
      let seen = lastActivity, since = t0 - lastActivity >= 2 * quietMs ? quietFrames : 0;
      for (;;) {
        if (frames < 2 || boundMs > 0) await frame();
        frames++;
        readFrames++;
        flush();
        const now = performance.now();
        // A long task that froze the page spent the paint wait without
        // painting: the wait starts again after it. And the candidates of
        // what was painted just before it are reported after it, later
        // still on a busy machine: its end counts as activity, for the
        // quiet period to follow (web-vitals saw a candidate of 0.42 s
        // that a read ending two frames after a 2 s task had missed).
        if (now - prev > frozenMs) { paintFrom = now; touch(now); }
        prev = now;
        const waitPaint = (st.fcp === null || (st.lcp === null && firstInput === Infinity)) && now - paintFrom < paintMs;
        if (lastActivity !== seen) { seen = lastActivity; since = 0; } else since++;
        const quiet = (now - lastActivity >= quietMs && since >= quietFrames) || (st.lcp !== null && st.lcp >= lastActivity);
        if (!pending() && !waitPaint && quiet && now - lastEntry >= entryQuietMs && frames >= 2) { settled = true; break; }
        if (now - t0 >= boundMs) break;
      }
      report();
      return { settled, pending: pending() };
    },
    // painted waits, at most ms, until the first paint and a first LCP
    // candidate have been reported, as a user looks before acting.
    // The entries are taken as soon as the browser queued them, not when
    // it gets to call the observers: first at once, then every few
    // milliseconds, each look a wait of the user's task.
    // So it waits for the first candidate of a view the latest input
    // opened (a soft navigation), whose candidates after the next input
    // are not its own: the next click, its events sent together, could
    // otherwise come a frame after the view was drawn, before Chrome
    // reported it. A URL change that Chrome has not (yet) reported as a
    // soft navigation is waited for a few frames only: Chrome's
    // heuristics miss some views, which have no candidates to wait for.
    painted: async (ms) => {
      let from = performance.now(), prev = from;
      flush();
      const unseen = () => (st.fcp === null || st.lcp === null) && firstInput === Infinity;
      while ((unseen() || viewUnseen()) && performance.now() - from < ms) {
        await new Promise((r) => setTimeout(r, 4));
        flush();
        const now = performance.now();
        if (now - prev > frozenMs) from = now; // as in settle: a freeze is not looking
        prev = now;
      }
    },
  };
})();
