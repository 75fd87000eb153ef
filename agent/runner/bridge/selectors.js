// uxprobe's selector engine, installed before helper.js in every document.
// It finds elements the way people describe them on sites they did not
// write: by ARIA role and accessible name, by a form control's label, by
// placeholder and data-testid, through open shadow roots, and along chains
// of segments (Go sends a chain already parsed, as JSON).
(() => {
  if (window.__uxprobeSelect) return;

  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

  // walk visits the elements below root and below every open shadow root
  // inside it, in tree order.
  const walk = (root, fn) => {
    if (root.shadowRoot) walk(root.shadowRoot, fn); // a host in a chain: its shadow tree is inside it
    const doc = root.ownerDocument || root;
    const w = doc.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let el = w.nextNode(); el; el = w.nextNode()) {
      fn(el);
      if (el.shadowRoot) walk(el.shadowRoot, fn);
    }
  };

  const cssAll = (scope, sel) => {
    const out = [...scope.querySelectorAll(sel)];
    if (scope.shadowRoot) out.push(...scope.shadowRoot.querySelectorAll(sel));
    walk(scope, (el) => { if (el.shadowRoot) out.push(...el.shadowRoot.querySelectorAll(sel)); });
    return out;
  };

  const xpathAll = (scope, path) => {
    const doc = scope.ownerDocument || scope;
    const r = doc.evaluate(path, scope, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = [];
    for (let i = 0; i < r.snapshotLength; i++) {
      const n = r.snapshotItem(i);
      if (n.nodeType === 1) out.push(n);
    }
    return out;
  };

  // tiered keeps the elements whose text equals want (case and spacing
  // aside), else those whose text contains it: "Email" finds the field
  // labelled "Email" before the one labelled "Email me offers".
  const tiered = (els, textOf, want) => {
    const w = norm(want).toLowerCase();
    const exact = [], part = [];
    for (const el of els) {
      const t = norm(textOf(el)).toLowerCase();
      if (t === w) exact.push(el);
      else if (w !== '' && t.includes(w)) part.push(el);
    }
    return exact.length ? exact : part;
  };

  const textOf = (el) => (el.innerText !== undefined ? el.innerText : el.textContent);

  // What a person sees. An element is not seen when it is not rendered
  // (display: none, here or above, or content-visibility: hidden, which
  // is how Chrome hides a closed <details>), when it is invisible
  // (visibility: hidden), or when its box is empty and clips what
  // overflows it (width: 0 with overflow: hidden). A text field's typed
  // value is not text on the page: text= never matches it, and only
  // assert_text on the field itself reads it. The value of a button input
  // is its label, seen like a button's text.
  const styleOf = (el) => el.ownerDocument.defaultView.getComputedStyle(el);
  const skipTags = { SCRIPT: 1, STYLE: 1, HEAD: 1, NOSCRIPT: 1, TEMPLATE: 1, TITLE: 1 };
  const buttonInput = (el) => el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes((el.type || '').toLowerCase());
  const fieldTags = { INPUT: 1, TEXTAREA: 1, SELECT: 1 };
  const clips = (cs) => cs.overflowX !== 'visible' || cs.overflowY !== 'visible';

  // unseenSelf says why el itself hides its content, or ''; visibility is
  // apart, as a visible child of an invisible element is seen.
  const unseenSelf = (el, cs) => {
    if (el.checkVisibility && !el.checkVisibility()) {
      const det = el.parentElement && el.parentElement.closest('details:not([open])');
      if (det) {
        const sum = det.querySelector(':scope > summary');
        if (!sum || !sum.contains(el)) return 'inside a closed <details>';
      }
      return cs.display === 'none' ? 'display: none' : 'not rendered (display: none or content-visibility: hidden above it)';
    }
    if (cs.display === 'contents') return '';
    const r = el.getBoundingClientRect();
    if ((r.width === 0 || r.height === 0) && (clips(cs) || el.getClientRects().length === 0)) return 'zero size';
    return '';
  };

  // unseen says why a person does not see el, or ''.
  const unseen = (el) => {
    if (!el.isConnected) return 'no longer in the page';
    const cs = styleOf(el);
    const own = unseenSelf(el, cs);
    if (own) return own;
    if (cs.visibility !== 'visible') return 'visibility: ' + cs.visibility;
    for (let a = el.parentElement || (el.parentNode && el.parentNode.host); a; a = a.parentElement || (a.parentNode && a.parentNode.host)) {
      const acs = styleOf(a);
      if (acs.display === 'contents') continue;
      const r = a.getBoundingClientRect();
      if ((r.width === 0 || r.height === 0) && clips(acs)) return 'inside an element of zero size';
      const det = a.tagName === 'DETAILS' && !a.open;
      if (det) {
        const sum = a.querySelector(':scope > summary');
        if (!sum || !sum.contains(el)) return 'inside a closed <details>';
      }
    }
    return '';
  };

  const transform = (t, tt) => {
    switch (tt) {
      case 'uppercase': return t.toUpperCase();
      case 'lowercase': return t.toLowerCase();
      case 'capitalize': return t.replace(/(^|\s)(\S)/g, (m, a, b) => a + b.toUpperCase());
    }
    return t;
  };

  // seenTexts renders the text a person sees of root and of each element
  // below it, along the rendered tree (into open shadow roots, through
  // slots), in one pass: seen elements map to their text.
  const seenTexts = (root) => {
    const texts = new Map();
    // render returns the element's seen text and whether it flows inline.
    // It reads each element's style once and its box only where an empty
    // box would clip, as a check of every element's box would cost the
    // waits of a large page a layout query per element and frame.
    const render = (el) => {
      const cs = styleOf(el);
      const d = cs.display;
      if (d === 'none') return ['', true];
      if (clips(cs)) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return ['', true];
      }
      const inline = d.startsWith('inline') || d === 'contents' || d.startsWith('ruby');
      const shown = cs.visibility === 'visible';
      let tt = null; // text-transform, read at the first text node
      let out = '';
      if (buttonInput(el)) out = shown ? el.value : '';
      else if (el.tagName === 'SELECT') out = shown && el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : '';
      else if (el.tagName === 'BR') out = ' ';
      else if (!fieldTags[el.tagName] && cs.contentVisibility !== 'hidden') {
        let kids = el.shadowRoot ? el.shadowRoot.childNodes : el.tagName === 'SLOT' ? el.assignedNodes({ flatten: true }) : el.childNodes;
        if (el.tagName === 'SLOT' && !kids.length) kids = el.childNodes; // its fallback content
        const closed = el.tagName === 'DETAILS' && !el.open;
        for (const n of kids) {
          if (n.nodeType === 3) {
            if (!shown || closed) continue;
            if (tt === null) tt = cs.textTransform;
            out += tt === 'none' ? n.data : transform(n.data, tt);
            continue;
          }
          if (n.nodeType !== 1 || skipTags[n.tagName]) continue;
          if (closed && !(n.tagName === 'SUMMARY' && n === el.querySelector(':scope > summary'))) continue;
          const [t, inl] = render(n);
          if (t) out += inl ? t : ' ' + t + ' ';
        }
      }
      if (shown) texts.set(el, out);
      return [out, inline];
    };
    if (root.nodeType === 9) render(root.documentElement);
    else if (root.nodeType === 11) { for (const n of root.children) render(n); } else if (!unseen(root)) render(root);
    return texts;
  };

  // seenText is the text a person sees of el, or why they do not see it.
  const seenText = (el) => {
    const why = unseen(el);
    if (why) return { unseen: why };
    return { text: norm(seenTexts(el).get(el) || '') };
  };

  // textAll: the innermost seen elements whose seen text matches, so that
  // a page's wrapper elements do not count as more matches.
  const textAll = (scope, want) => {
    const w = norm(want).toLowerCase();
    const exact = [], part = [];
    for (const [el, raw] of seenTexts(scope)) {
      if (el === scope) continue; // inside the scope, as the other kinds
      const t = norm(raw).toLowerCase();
      if (t === w) exact.push(el);
      else if (t.includes(w)) part.push(el);
    }
    const tier = exact.length ? exact : part;
    return tier.filter((el) => !tier.some((o) => o !== el && el.contains(o)));
  };

  // hidden is what the accessibility tree leaves out: a user cannot reach
  // an element that is not rendered or is aria-hidden.
  const hidden = (el) => {
    if (el.closest('[aria-hidden="true"]')) return true;
    if (el.checkVisibility) return !el.checkVisibility({ visibilityProperty: true });
    return el.getClientRects().length === 0;
  };

  const headings = { H1: 1, H2: 1, H3: 1, H4: 1, H5: 1, H6: 1 };
  const tagRoles = {
    BUTTON: 'button', TEXTAREA: 'textbox', OPTION: 'option', NAV: 'navigation', MAIN: 'main',
    ASIDE: 'complementary', FORM: 'form', ARTICLE: 'article', UL: 'list', OL: 'list', MENU: 'list', LI: 'listitem',
    TABLE: 'table', TR: 'row', TD: 'cell', TH: 'columnheader', DIALOG: 'dialog', P: 'paragraph',
    PROGRESS: 'progressbar', HR: 'separator', FIELDSET: 'group', DETAILS: 'group', SUMMARY: 'button',
    OUTPUT: 'status', METER: 'meter', TBODY: 'rowgroup', THEAD: 'rowgroup', TFOOT: 'rowgroup',
    HEADER: 'banner', FOOTER: 'contentinfo', SEARCH: 'search',
  };
  const inputRoles = {
    button: 'button', submit: 'button', reset: 'button', image: 'button', checkbox: 'checkbox', radio: 'radio',
    range: 'slider', number: 'spinbutton', search: 'searchbox', email: 'textbox', tel: 'textbox', text: 'textbox',
    url: 'textbox', password: 'textbox',
  };

  // implicitRole follows HTML-AAM for the elements pages use most.
  const implicitRole = (el) => {
    const t = el.tagName;
    if (headings[t]) return 'heading';
    if (t === 'A' || t === 'AREA') return el.hasAttribute('href') ? 'link' : null;
    if (t === 'INPUT') {
      const ty = (el.getAttribute('type') || 'text').toLowerCase();
      if (ty === 'hidden') return null;
      if (el.hasAttribute('list') && ['text', 'search', 'email', 'tel', 'url'].includes(ty)) return 'combobox';
      return inputRoles[ty] || 'textbox';
    }
    if (t === 'SELECT') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (t === 'IMG') return el.getAttribute('alt') === '' ? 'presentation' : 'img';
    if (t === 'SECTION') return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : null;
    return tagRoles[t] || null;
  };

  const roleOf = (el) => {
    const r = norm(el.getAttribute('role'));
    return r ? r.split(' ')[0].toLowerCase() : implicitRole(el);
  };

  const nameFromContent = {
    button: 1, link: 1, heading: 1, tab: 1, menuitem: 1, menuitemcheckbox: 1, menuitemradio: 1, option: 1,
    cell: 1, gridcell: 1, columnheader: 1, rowheader: 1, checkbox: 1, radio: 1, switch: 1, treeitem: 1,
    tooltip: 1, listitem: 1, row: 1,
  };

  const byIds = (el, attr) => {
    const root = el.getRootNode();
    return norm(el.getAttribute(attr)).split(' ').filter(Boolean)
      .map((id) => (root.getElementById ? root.getElementById(id) : document.getElementById(id)))
      .filter(Boolean);
  };

  // labelText is what names a form control: aria-labelledby, aria-label,
  // then its <label> elements (for= or wrapping).
  const labelText = (el) => {
    const lb = byIds(el, 'aria-labelledby');
    if (lb.length) return lb.map(textOf).join(' ');
    const al = norm(el.getAttribute('aria-label'));
    if (al) return al;
    if (el.labels && el.labels.length) return [...el.labels].map(textOf).join(' ');
    return null;
  };

  // accessibleName is a compact form of the accname computation: the label
  // first, then alt, a button's value, the content for roles named by it,
  // and title or placeholder last.
  const accessibleName = (el, role) => {
    const l = labelText(el);
    if (l !== null) return l;
    const t = el.tagName;
    if (t === 'IMG' || (t === 'INPUT' && el.type === 'image')) return el.getAttribute('alt') || el.getAttribute('title') || '';
    if (t === 'INPUT' && (el.type === 'button' || el.type === 'submit' || el.type === 'reset')) {
      return el.value || (el.type === 'submit' ? 'Submit' : el.type === 'reset' ? 'Reset' : '');
    }
    if (nameFromContent[role]) {
      const c = norm(textOf(el));
      if (c) return c;
    }
    return el.getAttribute('title') || el.getAttribute('placeholder') || '';
  };

  const visibleAll = (scope) => {
    const out = [];
    walk(scope, (el) => { if (!hidden(el)) out.push(el); });
    return out;
  };

  const segAll = (seg, scope) => {
    switch (seg.kind) {
      case 'css': return cssAll(scope, seg.value);
      case 'xpath': return xpathAll(scope, seg.value);
      case 'text': return textAll(scope, seg.value);
      case 'testid': return cssAll(scope, '[data-testid="' + CSS.escape(seg.value) + '"]');
      case 'placeholder': return tiered(cssAll(scope, '[placeholder]').filter((el) => !hidden(el)), (el) => el.getAttribute('placeholder'), seg.value);
      case 'label': return tiered(visibleAll(scope).filter((el) => labelText(el) !== null && el.tagName !== 'LABEL'), labelText, seg.value);
      case 'role': {
        const els = visibleAll(scope).filter((el) => roleOf(el) === seg.value);
        return seg.has_name ? tiered(els, (el) => accessibleName(el, seg.value), seg.name || '') : els;
      }
    }
    throw new Error('unknown selector kind ' + seg.kind);
  };

  // enter continues a chain inside an iframe the previous segment matched;
  // a cross-origin frame's document is not reachable from here.
  const enter = (el) => {
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      let doc = null;
      try { doc = el.contentDocument; } catch (e) {}
      if (!doc && el.contentWindow) {
        // Of another origin: say so, rather than "no element matches".
        throw new Error('it goes into an iframe of another origin (' + (el.src || 'no src') + '), whose document uxprobe cannot reach yet');
      }
      return doc;
    }
    return el;
  };

  const chainAll = (segs) => {
    let cur = null; // null: the document itself
    for (const seg of segs) {
      if (seg.kind === 'nth') {
        const list = cur || [];
        const i = seg.nth < 0 ? list.length + seg.nth : seg.nth;
        cur = i >= 0 && i < list.length ? [list[i]] : [];
        continue;
      }
      const scopes = cur === null ? [document] : cur.map(enter).filter(Boolean);
      const seen = new Set();
      const next = [];
      for (const sc of scopes) {
        for (const el of segAll(seg, sc)) {
          if (!seen.has(el)) { seen.add(el); next.push(el); }
        }
      }
      cur = next;
    }
    return cur || [];
  };

  // foreign splits a chain where its first match is an iframe of another
  // origin: Go runs the segments before it (prefix) here and the rest in
  // the frame's own document, through the protocol. null: no such frame.
  const foreign = (value) => {
    const segs = JSON.parse(value);
    let cur = null;
    for (let i = 0; i < segs.length; i++) {
      if (cur !== null && cur.length && segs[i].kind !== 'nth') {
        const el = cur[0];
        if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
          let doc = null;
          try { doc = el.contentDocument; } catch (e) {}
          if (!doc && el.contentWindow) {
            return { prefix: JSON.stringify(segs.slice(0, i)), rest: JSON.stringify(segs.slice(i)) };
          }
        }
      }
      try { cur = chainAll(segs.slice(0, i + 1)); } catch (e) { return null; } // the plain path reports it
    }
    return null;
  };

  // frameBox is where the content box of the frame a prefix matches is in
  // the top page's viewport, after scrolling it into view if it is not.
  // With a point in the frame's viewport, it also says what of the page
  // covers the frame there, as a person's click would hit that instead.
  const frameBox = (prefix, fx, fy) => {
    const fe = chainAll(JSON.parse(prefix))[0];
    if (!fe) return null;
    const box = () => {
      const r = fe.getBoundingClientRect();
      const cs = fe.ownerDocument.defaultView.getComputedStyle(fe);
      const off = window.__uxprobeAct.frameOffset(fe);
      return {
        x: off.x + r.left + fe.clientLeft + parseFloat(cs.paddingLeft || 0),
        y: off.y + r.top + fe.clientTop + parseFloat(cs.paddingTop || 0),
        w: r.width, h: r.height,
      };
    };
    let b = box();
    if (b.x + b.w <= 0 || b.y + b.h <= 0 || b.x >= innerWidth || b.y >= innerHeight) {
      fe.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
      b = box();
    }
    if (fx !== undefined) {
      const px = b.x + fx, py = b.y + fy;
      const off = window.__uxprobeAct.frameOffset(fe);
      const at = window.__uxprobeAct.hitInFrames(fe, { x: px, y: py, lx: px - off.x, ly: py - off.y });
      if (at && at !== fe) {
        b.covered = at.tagName.toLowerCase() + (at.id ? '#' + at.id : at.classList && at.classList.length ? '.' + [...at.classList].slice(0, 2).join('.') : '');
      }
    }
    return b;
  };

  const all = (kind, value) => {
    if (kind === 'chain') return chainAll(JSON.parse(value));
    return chainAll([{ kind, value }]);
  };

  window.__uxprobeSelect = {
    all,
    seenText,
    foreign,
    frameBox,
    // first is on the path of every wait, so plain CSS asks the light DOM
    // first and walks shadow roots only when that finds nothing.
    first: (kind, value) => {
      if (kind === 'css') {
        const el = document.querySelector(value);
        if (el) return el;
      }
      return all(kind, value)[0] || null;
    },
  };
})();
