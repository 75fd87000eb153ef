// uxprobe's mobile UX audit. One evaluation in the page checks the rules it
// is given and returns every finding with its examples, so an audit costs
// one round trip whatever the page's size. It uses nothing of uxprobe's
// helper: the engine works on any page it can evaluate JavaScript in.
//
// Hidden elements are never findings: display: none, visibility: hidden,
// opacity 0, zero or 1 px sized (the "visually hidden" pattern), clipped
// away, or off the document's top or left edge on purpose (skip links).
async (opts) => {
  const MAX = opts.examples;
  const root = document.documentElement;
  const body = document.body || root;
  // Under Chrome's mobile emulation a page wider than the screen widens
  // innerWidth to its content; clientWidth stays the layout viewport's,
  // the width the user's screen shows at the initial zoom.
  const vw = root.clientWidth, vh = root.clientHeight;
  const sx = scrollX, sy = scrollY;
  const round = (v) => Math.round(v * 10) / 10;

  const styles = new Map();
  const style = (el) => {
    let s = styles.get(el);
    if (!s) { s = getComputedStyle(el); styles.set(el, s); }
    return s;
  };

  // docRect is the element's box in document coordinates.
  const docRect = (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left + sx, y: r.top + sy, w: r.width, h: r.height };
  };

  const shown = new Map();
  const isShown = (el) => {
    let v = shown.get(el);
    if (v !== undefined) return v;
    v = el.checkVisibility ? el.checkVisibility({ visibilityProperty: true, opacityProperty: true }) : true;
    if (v) {
      const s = style(el);
      if (s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)') v = false;
    }
    shown.set(el, v);
    return v;
  };

  // visibleBox returns the box of an element a user can see, or null.
  const visibleBox = (el) => {
    if (!isShown(el)) return null;
    const r = docRect(el);
    if (r.w <= 1 || r.h <= 1) return null;
    if (r.x + r.w <= 0 || r.y + r.h <= 0) return null; // moved off-screen on purpose
    return r;
  };

  const cssPath = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.id && document.querySelectorAll('#' + CSS.escape(e.id)).length === 1) {
        parts.unshift('#' + CSS.escape(e.id));
        break;
      }
      let part = CSS.escape(e.localName);
      if (e === body || e === root) {
        parts.unshift(part);
        break;
      }
      if (e.classList && e.classList.length) part += '.' + CSS.escape(e.classList[0]);
      const p = e.parentElement;
      if (p) {
        let n = 0, at = 0;
        for (const c of p.children) {
          if (c.localName === e.localName) n++;
          if (c === e) at = n;
        }
        if (n > 1) part += ':nth-of-type(' + at + ')';
      }
      parts.unshift(part);
    }
    return parts.join(' > ');
  };

  const example = (el, r) => {
    r = r || docRect(el);
    return { selector: cssPath(el), x: round(r.x), y: round(r.y), width: round(r.w), height: round(r.h) };
  };

  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);

  const viewportMeta = () => {
    const metas = document.querySelectorAll('meta[name="viewport" i]');
    if (!metas.length) return null;
    const el = metas[metas.length - 1]; // the last one wins, as in browsers
    const kv = {};
    for (const item of (el.getAttribute('content') || '').split(/[,;]/)) {
      const [k, v] = item.split('=');
      if (k && k.trim()) kv[k.trim().toLowerCase()] = (v || '').trim().toLowerCase();
    }
    return { el, kv };
  };

  const rules = {
    'horizontal-overflow': () => {
      const docWidth = (document.scrollingElement || root).scrollWidth;
      if (docWidth <= vw + 1) return null;
      // The causes are the outermost elements that stick out: a child of an
      // element that sticks out only follows its parent.
      const out = new Set();
      const causes = [];
      for (const el of body.getElementsByTagName('*')) {
        const r = el.getBoundingClientRect();
        if (r.right + sx <= vw + 1 || r.width === 0) continue;
        out.add(el);
        if (out.has(el.parentElement)) continue;
        if (!isShown(el) || style(el).position === 'fixed') continue;
        // Inside a scroll or clip container the element scrolls there, not
        // the page.
        let clipped = false;
        for (let a = el.parentElement; a && a !== body && a !== root; a = a.parentElement) {
          if (style(a).overflowX !== 'visible') { clipped = true; break; }
        }
        if (!clipped) causes.push({ el, r: docRect(el) });
      }
      causes.sort((a, b) => (b.r.x + b.r.w) - (a.r.x + a.r.w));
      const n = Math.max(causes.length, 1);
      return {
        count: n,
        message: 'the page is ' + docWidth + ' px wide on a ' + vw + ' px wide screen, so users must scroll sideways; ' +
          plural(causes.length, 'element sticks', 'elements stick') + ' out',
        examples: causes.slice(0, MAX).map((c) => example(c.el, c.r)),
      };
    },

    'tap-target-size': () => {
      const MIN = 24, R = MIN / 2;
      const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, ' +
        '[role="button"], [role="link"], [role="checkbox"], [role="radio"], [role="tab"], [role="menuitem"], [role="switch"]';
      const targets = [];
      for (const el of document.querySelectorAll(sel)) {
        let r = visibleBox(el);
        if (!r) continue;
        // A small checkbox with its label next to it is the label's size
        // to a finger: the label activates it.
        if (el.labels && el.labels.length && (r.w < MIN || r.h < MIN)) {
          for (const l of el.labels) {
            const lr = visibleBox(l);
            if (!lr) continue;
            const gap = Math.max(lr.x - (r.x + r.w), r.x - (lr.x + lr.w), lr.y - (r.y + r.h), r.y - (lr.y + lr.h));
            if (gap > MIN) continue;
            const x = Math.min(r.x, lr.x), y = Math.min(r.y, lr.y);
            r = { x, y, w: Math.max(r.x + r.w, lr.x + lr.w) - x, h: Math.max(r.y + r.h, lr.y + lr.h) - y };
          }
        }
        const small = r.w < MIN || r.h < MIN;
        targets.push({ el, r, small, cx: r.x + r.w / 2, cy: r.y + r.h / 2 });
      }
      // A grid of cells keeps the spacing check near linear on pages with
      // thousands of links.
      const CELL = 64, grid = new Map();
      const key = (i, j) => i * 100003 + j;
      for (const t of targets) {
        const i0 = Math.floor(t.r.x / CELL), i1 = Math.floor((t.r.x + t.r.w) / CELL);
        const j0 = Math.floor(t.r.y / CELL), j1 = Math.floor((t.r.y + t.r.h) / CELL);
        if ((i1 - i0 + 1) * (j1 - j0 + 1) > 4096) continue; // a page-sized target is no one's neighbour in practice
        for (let i = i0; i <= i1; i++) for (let j = j0; j <= j1; j++) {
          const k = key(i, j);
          let c = grid.get(k);
          if (!c) { c = []; grid.set(k, c); }
          c.push(t);
        }
      }
      const related = (a, b) => a.el.contains(b.el) || b.el.contains(a.el) ||
        (a.el.labels && [...a.el.labels].some((l) => l.contains(b.el))) || (b.el.labels && [...b.el.labels].some((l) => l.contains(a.el)));
      const distToRect = (x, y, r) => {
        const dx = Math.max(r.x - x, 0, x - (r.x + r.w)), dy = Math.max(r.y - y, 0, y - (r.y + r.h));
        return Math.hypot(dx, dy);
      };
      const EPS = 0.01;
      const bad = [];
      for (const t of targets) {
        if (!t.small) continue;
        // Inline exception: a link in a sentence is as tall as the line.
        if (t.el.localName === 'a' && style(t.el).display === 'inline') {
          const p = t.el.parentElement;
          if (p && p.textContent.trim().length > t.el.textContent.trim().length) continue;
        }
        // Spacing exception: the 24 px circle around the target's centre
        // touches no other target and no other small target's circle.
        let hit = null;
        const i0 = Math.floor((t.cx - MIN) / CELL), i1 = Math.floor((t.cx + MIN) / CELL);
        const j0 = Math.floor((t.cy - MIN) / CELL), j1 = Math.floor((t.cy + MIN) / CELL);
        for (let i = i0; i <= i1 && !hit; i++) for (let j = j0; j <= j1 && !hit; j++) {
          for (const o of grid.get(key(i, j)) || []) {
            if (o === t || related(t, o)) continue;
            if (distToRect(t.cx, t.cy, o.r) < R - EPS || (o.small && Math.hypot(t.cx - o.cx, t.cy - o.cy) < MIN - EPS)) { hit = o; break; }
          }
        }
        if (hit) bad.push(t);
      }
      if (!bad.length) return null;
      const smallest = bad.reduce((a, b) => (a.r.w * a.r.h <= b.r.w * b.r.h ? a : b));
      return {
        count: bad.length,
        message: plural(bad.length, 'tap target is', 'tap targets are') + ' smaller than 24x24 px and too close to another target to be hit reliably with a finger (WCAG 2.5.8); the smallest is ' +
          Math.round(smallest.r.w) + 'x' + Math.round(smallest.r.h) + ' px',
        examples: bad.slice(0, MAX).map((t) => example(t.el, t.r)),
      };
    },

    'text-size': () => {
      const MIN = 12;
      let total = 0, small = 0;
      const smallEls = new Map();
      const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      const seen = new Map(); // element -> visible box or null
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const len = n.data.trim().length;
        if (!len) continue;
        const el = n.parentElement;
        if (!el) continue;
        let r = seen.get(el);
        if (r === undefined) { r = visibleBox(el); seen.set(el, r); }
        if (!r) continue;
        total += len;
        if (parseFloat(style(el).fontSize) < MIN) {
          small += len;
          smallEls.set(el, (smallEls.get(el) || 0) + len);
        }
      }
      if (!total || small / total <= 0.4) return null;
      const worst = [...smallEls.entries()].sort((a, b) => b[1] - a[1]);
      return {
        count: smallEls.size,
        message: Math.round(100 * small / total) + '% of the visible text is smaller than 12 px, too small to read on a phone without zooming (' +
          plural(smallEls.size, 'element', 'elements') + ')',
        examples: worst.slice(0, MAX).map(([el]) => example(el, seen.get(el))),
      };
    },

    'viewport-meta': () => {
      const m = viewportMeta();
      if (!m) {
        return { count: 1, message: 'the page has no <meta name="viewport" content="width=device-width">, so phones show it zoomed out as a desktop page', examples: [] };
      }
      if (m.kv.width === 'device-width') return null;
      return {
        count: 1,
        message: 'the viewport meta says ' + JSON.stringify(m.el.getAttribute('content') || '') + ' without width=device-width, so phones do not lay the page out for their screen',
        examples: [example(m.el, { x: 0, y: 0, w: 0, h: 0 })],
      };
    },

    'zoom-disabled': () => {
      const m = viewportMeta();
      if (!m) return null;
      const why = [];
      if (['no', '0', 'false'].includes(m.kv['user-scalable'])) why.push('user-scalable=' + m.kv['user-scalable']);
      const max = parseFloat(m.kv['maximum-scale']);
      if (!Number.isNaN(max) && max < 2) why.push('maximum-scale=' + m.kv['maximum-scale']);
      if (!why.length) return null;
      return {
        count: 1,
        message: 'the viewport meta forbids zooming (' + why.join(', ') + '): people who need larger text cannot pinch to zoom',
        examples: [example(m.el, { x: 0, y: 0, w: 0, h: 0 })],
      };
    },

    'help-link': () => {
      const words = /help|support|contact/i;
      const nameOf = (el) => {
        const parts = [el.innerText || '', el.getAttribute('aria-label') || '', el.getAttribute('title') || ''];
        if (el.localName === 'input') parts.push(el.value || '');
        const by = el.getAttribute('aria-labelledby');
        if (by) for (const id of by.split(/\s+/)) { const l = document.getElementById(id); if (l) parts.push(l.textContent); }
        for (const img of el.querySelectorAll('img[alt]')) parts.push(img.alt);
        return parts.join(' ');
      };
      const fixed = (el) => {
        for (let a = el; a && a !== root; a = a.parentElement) if (style(a).position === 'fixed') return true;
        return false;
      };
      for (const el of document.querySelectorAll('a[href], button, [role="button"], [role="link"], input[type="button"], input[type="submit"]')) {
        if (!words.test(nameOf(el))) continue;
        let r = visibleBox(el);
        if (!r) continue;
        // A fixed element is on every screen: judge it where it is shown.
        if (fixed(el)) r = { x: r.x - sx, y: r.y - sy, w: r.w, h: r.h };
        if (r.x < vw && r.y < vh && r.x + r.w > 0 && r.y + r.h > 0) return null;
      }
      return {
        count: 1,
        message: 'no visible Help, Support or Contact link or button in the first screen (' + vw + 'x' + vh + ' px): users who are stuck cannot find help without searching for it',
        examples: [],
      };
    },

    'image-dimensions': () => {
      const bad = [];
      for (const img of document.images) {
        if (!isShown(img)) continue;
        const s = style(img);
        // Out of the flow, it cannot push anything when it loads.
        if (s.position === 'absolute' || s.position === 'fixed') continue;
        // width and height attributes become an aspect ratio in the
        // computed style ("auto 400 / 300"), as does CSS aspect-ratio.
        if (s.aspectRatio !== 'auto') continue;
        const r = docRect(img);
        if (r.x + r.w <= 0 || r.y + r.h <= 0) continue;
        bad.push({ img, r });
      }
      if (!bad.length) return null;
      return {
        count: bad.length,
        message: plural(bad.length, 'image has', 'images have') + ' no width and height attributes and no CSS aspect-ratio, so the page jumps when ' +
          (bad.length === 1 ? 'it loads' : 'they load'),
        examples: bad.slice(0, MAX).map((b) => example(b.img, b.r)),
      };
    },

    'lazy-lcp': async () => {
      let entries = [];
      try {
        // A buffered observer hands over the entries recorded so far.
        await new Promise((resolve) => {
          const po = new PerformanceObserver((list) => { entries = entries.concat(list.getEntries()); po.disconnect(); resolve(); });
          po.observe({ type: 'largest-contentful-paint', buffered: true });
          entries = po.takeRecords();
          if (entries.length) { po.disconnect(); resolve(); return; }
          setTimeout(() => { po.disconnect(); resolve(); }, 50);
        });
      } catch (e) {
        return null; // no LCP in this browser: nothing to judge
      }
      const last = entries[entries.length - 1];
      const el = last && last.element;
      if (!el || el.localName !== 'img' || (el.getAttribute('loading') || '').toLowerCase() !== 'lazy') return null;
      return {
        count: 1,
        message: 'the largest content of the page is an image with loading="lazy": the browser fetches it only after layout, which delays the largest contentful paint',
        examples: [example(el)],
      };
    },
  };

  const findings = [], checked = [], errors = [];
  for (const name of opts.rules) {
    const rule = Object.hasOwn(rules, name) ? rules[name] : null;
    if (!rule) { errors.push({ rule: name, error: 'unknown rule' }); continue; }
    try {
      const f = await rule();
      checked.push(name);
      if (f) findings.push(Object.assign({ rule: name }, f));
    } catch (e) {
      errors.push({ rule: name, error: String(e && e.message || e) });
    }
  }
  return { url: location.href, checked, findings, errors };
}
