// uxprobe's actionability helpers, installed before helper.js: where a
// person would aim at an element, through same-origin frames, and whether
// an element stands still. Kept apart from helper.js, which others change.
(() => {
  if (window.__uxprobeAct) return;

  const styleOf = (e) => e.ownerDocument.defaultView.getComputedStyle(e);

  // aimPoint is the centre of the element's first box for an inline
  // element that wraps over lines, else of its bounding box.
  const aimPoint = (el, r) => {
    const rects = el.getClientRects();
    if (rects.length > 1) {
      for (const q of rects) {
        if (q.width > 0 && q.height > 0) return { x: q.left + q.width / 2, y: q.top + q.height / 2 };
      }
    }
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  };

  // frameOffset is where the element's frame's viewport is in the top
  // page's: the frame elements' boxes, borders and padding added up.
  const frameOffset = (el) => {
    let x = 0, y = 0;
    for (let w = el.ownerDocument.defaultView; w && w !== w.parent && w.frameElement; w = w.parent) {
      const fe = w.frameElement;
      const r = fe.getBoundingClientRect();
      const cs = styleOf(fe);
      x += r.left + fe.clientLeft + parseFloat(cs.paddingLeft || 0);
      y += r.top + fe.clientTop + parseFloat(cs.paddingTop || 0);
    }
    return { x, y };
  };

  // deepHit is what a document has at a point, into open shadow roots.
  const deepHit = (root, x, y) => {
    let at = root.elementFromPoint(x, y);
    for (let inner; at && at.shadowRoot && (inner = at.shadowRoot.elementFromPoint(x, y)) && inner !== at;) at = inner;
    return at;
  };

  // hitInFrames checks each frame on the way down to the element's: each
  // document must have the next frame at the point, and the element's
  // document is asked last. It returns what is hit at the point.
  const hitInFrames = (el, s) => {
    const chain = [];
    for (let w = el.ownerDocument.defaultView; w && w !== w.parent && w.frameElement; w = w.parent) chain.unshift(w.frameElement);
    for (const fe of chain) {
      const off = frameOffset(fe);
      const at = deepHit(fe.ownerDocument, s.x - off.x, s.y - off.y);
      if (at !== fe) return at;
    }
    return deepHit(el.ownerDocument, s.lx, s.ly);
  };

  // boxOf is the element's box and effective opacity, to compare between
  // animation frames.
  const boxOf = (el) => {
    const r = el.getBoundingClientRect();
    const off = frameOffset(el);
    let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) o *= parseFloat(styleOf(e).opacity || 1);
    // Fully transparent is not shown yet to a person (a modal about to fade
    // in): such a box never counts as standing still.
    if (o < 0.01) return 'transparent ' + performance.now();
    // The opacity whole: rounded, the last frames of a fade (0.9996, then
    // 1) looked the same, and a click sent at once came while it still
    // faded (the modal's fade-in test, under load).
    return [r.left + off.x, r.top + off.y, r.width, r.height, o].join(',');
  };

  // quiet resolves once no finite CSS animation or transition runs and two
  // frames have passed, or after timeoutMs: a screenshot of a panel in the
  // middle of sliding in shows neither state. Endless animations (spinners)
  // do not count, or a page with one could never be pictured.
  const quiet = (timeoutMs) => new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    const busy = () => document.getAnimations().some((a) => {
      if (a.playState !== 'running' || !a.effect) return false;
      const t = a.effect.getComputedTiming();
      return Number.isFinite(t.endTime);
    });
    const over = () => performance.now() >= deadline;
    const look = () => {
      if (busy() && !over()) return setTimeout(look, 16);
      // Still quiet two frames later: an animation that starts in the
      // next frames (a class added in requestAnimationFrame) counts too.
      let settled = false;
      const again = () => {
        if (settled) return;
        settled = true;
        if (busy() && !over()) look(); else resolve(true);
      };
      requestAnimationFrame(() => requestAnimationFrame(again));
      setTimeout(again, 100); // a page that paints no frames
    };
    look();
  });

  window.__uxprobeAct = { aimPoint, frameOffset, hitInFrames, boxOf, quiet };
})();
