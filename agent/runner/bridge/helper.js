// uxprobe's in-page helper. Installed in every document before its own
// scripts run (Page.addScriptToEvaluateOnNewDocument), after vitals.js,
// so that each step needs one round trip: the waiting happens in the page, not in polls from Go.
(() => {
  if (window.__uxprobe) return;
  const { aimPoint, frameOffset, hitInFrames, boxOf } = window.__uxprobeAct; // actions.js

  // navs counts navigations this document has started to another document:
  // the Navigation API's navigate event fires in the page before Chrome
  // tells the protocol anything, even for a form submission that Blink
  // schedules as a task of its own. A step that clicked compares it.
  let navs = 0;
  try {
    navigation.addEventListener('navigate', (e) => {
      if (!e.hashChange && !e.destination.sameDocument && e.navigationType !== 'reload') navs++;
    });
  } catch (e) {}

  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

  const find = (kind, value) => {
    if (kind === 'xpath') {
      const r = document.evaluate(value, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
      return r && r.nodeType === 1 ? r : null;
    }
    return window.__uxprobeSelect.first(kind, value); // selectors.js
  };

  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    else if (el.classList && el.classList.length) d += '.' + [...el.classList].slice(0, 2).join('.');
    return d;
  };

  const state = (el) => {
    const r = el.getBoundingClientRect();
    const visible = r.width > 0 && r.height > 0 &&
      (el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : getComputedStyle(el).visibility !== 'hidden');
    // The point a person aims at is on the element: for an inline element
    // that wraps over lines, the centre of its bounding box can fall
    // between them, so the centre of its first box is used.
    const p = aimPoint(el, r);
    const off = frameOffset(el);
    const cx = p.x + off.x, cy = p.y + off.y;
    return {
      visible,
      enabled: !el.disabled && el.getAttribute('aria-disabled') !== 'true',
      inViewport: visible && cx >= 0 && cy >= 0 && cx <= innerWidth && cy <= innerHeight,
      x: cx, y: cy, lx: p.x, ly: p.y, w: r.width, h: r.height,
    };
  };

  // hit reports what would receive a click at the element's centre, after
  // scrolling it into view: a covered element would not get the user's click.
  const hit = (el) => {
    let s = state(el);
    if (!s.inViewport) {
      el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
      s = state(el);
    }
    // In a frame, the page must hit the frame where the element is, and
    // the frame's document the element; a shadow host stands for what its
    // open shadow root has at the point.
    const at = hitInFrames(el, s);
    if (at && at !== el && !el.contains(at) && !(at.control === el)) {
      return { covered: describe(at), x: s.x, y: s.y };
    }
    return { x: s.x, y: s.y, w: s.w, h: s.h };
  };

  // The counts of navigations and of inputs come with every check, so
  // that a step compares what its own input caused without a round trip.
  const check = (kind, value, cond) => Object.assign(checkState(kind, value, cond), {
    navs, doc: __uxprobeVitals.doc, inputs: __uxprobeVitals.inputs(),
  });

  const checkState = (kind, value, cond) => {
    const el = find(kind, value);
    if (cond === 'present') return { ok: !!el, found: !!el }; // no layout needed
    const s = el ? state(el) : null;
    switch (cond) {
      case 'hidden': return { ok: !el || !s.visible, found: !!el, visible: !!s && s.visible };
      case 'visible': return { ok: !!el && s.visible, found: !!el, visible: !!s && s.visible };
      case 'in_viewport': return { ok: !!el && s.inViewport, found: !!el, visible: !!s && s.visible };
      default: { // actionable, or clickable (wait adds the stability check)
        if (!el || !s.visible || !s.enabled) return { ok: false, found: !!el, visible: !!s && s.visible, enabled: !!s && s.enabled };
        const h = hit(el);
        if (h.covered) return { ok: false, found: true, visible: true, enabled: true, covered: h.covered };
        const box = boxOf(el); // for the stability check in wait
        // An action on one of several matches may be on the wrong one: the
        // step reports how many matched and the first two.
        const all = window.__uxprobeSelect.all(kind, value);
        return { ok: true, found: true, x: h.x, y: h.y, w: h.w, h: h.h, box, count: all.length, matches: all.slice(0, 2).map(describe) };
      }
    }
  };

  // wait resolves when the condition holds or the time is up. It looks
  // again after DOM mutations, at most once per animation frame: a check
  // measures layout, and in a frame callback that is work the frame does
  // anyway, where a check per mutation would force a layout each time
  // during a page's busiest moments. A slow timer catches what mutations
  // miss (CSS transitions, a page that paints no frames). Before an input
  // (forInput), the first paint and LCP candidate get a bounded moment to
  // be reported, as a user sees the page before acting on it: Chrome ends
  // LCP at the first input.
  // The frames of the paint wait count for the stability check of a
  // click: a person looking at the page sees the element stand still
  // meanwhile, so a click after the first paint need not wait another
  // frame for it.
  // then names what an input step does first to the element it waited
  // for (clear or focus): done in the same call once the element is ready,
  // it saves the step a round trip, and its answer comes as the result's
  // then.
  const wait = async (kind, value, cond, timeoutMs, forInput, then) => {
    const deadline = performance.now() + timeoutMs;
    let seen = null;
    if (forInput) {
      const watch = cond === 'clickable' ? watchBox(kind, value) : null;
      await __uxprobeVitals.painted(Math.min(500, timeoutMs / 2));
      if (watch) seen = watch.stop();
    }
    const r = await waitUntil(kind, value, cond, deadline, seen);
    if (r.ok && (then === 'clear' || then === 'focus')) r.then = (then === 'clear' ? clear : focus)(kind, value);
    return r;
  };

  // watchBox looks at the element's box in each animation frame until
  // stopped, and then tells the box it kept in the last two frames, if it
  // kept one, and the time of the last.
  const watchBox = (kind, value) => {
    let prev = null, box = null, time = null, frame = 0, on = true;
    const look = () => {
      if (!on) return;
      let el = null;
      try { el = find(kind, value); } catch (e) {}
      prev = box;
      box = el ? boxOf(el) : null;
      time = document.timeline ? document.timeline.currentTime : performance.now();
      frame = requestAnimationFrame(look);
    };
    frame = requestAnimationFrame(look);
    return {
      stop: () => {
        on = false;
        cancelAnimationFrame(frame);
        return box !== null && box === prev ? { box, time } : null;
      },
    };
  };

  const waitUntil = (kind, value, cond, deadline, seen) => new Promise((resolve) => {
    let done = false, mo = null, timer = 0, frame = 0;
    // An actionable element's box, the frames it kept it, the last frame;
    // seen: what the paint wait saw of it.
    let lastBox = seen ? seen.box : null, still = seen ? 1 : 0, lastTime = seen ? seen.time : null;
    const finish = (r) => {
      done = true;
      if (mo) mo.disconnect();
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      resolve(r);
    };
    const attempt = () => {
      frame = 0;
      if (done) return;
      let r;
      try {
        r = check(kind, value, cond);
      } catch (e) {
        return finish({ ok: false, error: String(e && e.message || e) });
      }
      if (r.ok && cond === 'clickable') {
        // A person clicks what stands still: the box (and opacity) must
        // be the same in two consecutive animation frames, not moving or
        // fading in (Playwright's definition of stable). Two looks in one
        // frame (a timer and a frame callback) see the same animation
        // time, so only looks in different frames count.
        const t = document.timeline ? document.timeline.currentTime : performance.now();
        if (t !== lastTime) {
          lastTime = t;
          if (r.box === lastBox) still++; else { lastBox = r.box; still = 0; }
        } else if (r.box !== lastBox) {
          lastBox = r.box; // moved since the frame the paint wait saw
          still = 0;
        }
        if (still < 1) {
          r = { ok: false, found: true, visible: true, enabled: true, unstable: true };
          if (performance.now() >= deadline) return finish(r);
          if (!frame) frame = requestAnimationFrame(attempt);
          return;
        }
      }
      if (r.ok || performance.now() >= deadline) return finish(r);
    };
    attempt();
    if (done) return;
    mo = new MutationObserver(() => {
      if (!frame && !done) frame = requestAnimationFrame(attempt);
    });
    mo.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    const tick = () => {
      attempt();
      if (!done) timer = setTimeout(tick, 100);
    };
    timer = setTimeout(tick, 100);
  });

  const withElement = (kind, value, fn) => {
    const el = find(kind, value);
    if (!el) return { found: false };
    return Object.assign({ found: true }, fn(el));
  };

  // clear focuses the element and empties it; focus focuses it.
  const clear = (kind, value) => withElement(kind, value, (el) => {
    el.focus();
    if (el.isContentEditable) {
      document.execCommand('selectAll');
      document.execCommand('delete');
    } else if ('value' in el) {
      // The native setter, so frameworks that wrap value see the change.
      const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      const setter = Object.getOwnPropertyDescriptor(proto, 'value');
      if (setter && setter.set) setter.set.call(el, ''); else el.value = '';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    } else {
      return { error: describe(el) + ' is not a text field' };
    }
    return {};
  });
  const focus = (kind, value) => withElement(kind, value, (el) => { el.focus(); return {}; });

  // concealFocused draws the text of the focused field as discs, as a
  // password field's, before a secret is typed into it: screenshots,
  // filmstrip frames and visual checks then do not show the secret. The
  // focused element is followed into open shadow roots and same-origin
  // frames; the field's value and layout stay as they are.
  const focusedWithin = (el) => {
    if (el.shadowRoot) return el.shadowRoot.activeElement;
    try { return el.contentDocument ? el.contentDocument.activeElement : null; } catch (e) { return null; } // another origin's frame
  };
  const concealFocused = () => {
    let el = document.activeElement;
    for (let inner = el && focusedWithin(el); inner && inner !== el; inner = focusedWithin(el)) el = inner;
    if (!el || !el.style || el === document.body || el === document.documentElement) return { concealed: false };
    el.style.setProperty('-webkit-text-security', 'disc', 'important');
    return { concealed: true };
  };

  window.__uxprobe = {
    wait,
    check,
    // navsAfterTasks answers after the tasks queued so far, such as a form
    // submission a click scheduled, have run.
    navsAfterTasks: () => new Promise((r) => setTimeout(() => r(navs), 0)),
    // settle is the final read of the document's vitals, see vitals.js.
    settle: (boundMs) => __uxprobeVitals.settle(boundMs),
    // text is what a person sees of the element (selectors.js), or, for a
    // text field, its value; an element nobody sees has no text to assert.
    text: (kind, value) => withElement(kind, value, (el) => {
      const seen = window.__uxprobeSelect.seenText(el);
      if (seen.unseen) return { error: describe(el) + ' is not visible (' + seen.unseen + '): assert_text reads the text a person sees' };
      const field = 'value' in el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') && !(el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type));
      return { text: field ? el.value : seen.text };
    }),
    clear,
    focus,
    concealFocused,
    // apply runs an action's own function on the element: fn(el, ...args)
    // answers nothing, or {error} to fail the step.
    apply: (kind, value, fn, args) => withElement(kind, value, (el) => fn(el, ...args) || {}),
    // describe names an element for a message, norm collapses white space:
    // for the functions of apply.
    describe,
    norm,
  };
})();
