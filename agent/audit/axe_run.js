// Runs axe-core, already injected as window.axe, and returns its violations
// and incomplete results as uxprobe findings: up to opts.examples elements
// each, with their rectangles in CSS px of the document. The caller gives
// either WCAG tags (the accessibility rule) with single rules added, or
// single rules only.
async function (opts) {
  const ax = window.axe;
  if (!ax || typeof ax.run !== 'function') {
    throw new Error('axe-core is not in the page');
  }
  const rank = { minor: 0, moderate: 1, serious: 2, critical: 3 };
  const min = rank[opts.minImpact] || 0;
  const runOptions = {
    resultTypes: ['violations', 'incomplete'],
    elementRef: true,
    selectors: true,
    ancestry: false,
    xpath: false,
    // No iframes: a third-party frame (ads, chat) is not the page's.
    iframes: false,
  };
  if (opts.tags.length > 0) {
    runOptions.runOnly = { type: 'tag', values: opts.tags };
    if (opts.rules.length > 0) {
      runOptions.rules = {};
      for (const id of opts.rules) runOptions.rules[id] = { enabled: true };
    }
  } else {
    runOptions.runOnly = { type: 'rule', values: opts.rules };
  }
  const res = await ax.run(document, runOptions);

  const selector = (target) => {
    // A target is a list of selectors, one per frame or shadow root.
    const parts = [];
    for (const t of target || []) parts.push(Array.isArray(t) ? t.join(' >>> ') : String(t));
    return parts.join(' >>> ');
  };
  const example = (node) => {
    const ex = { selector: selector(node.target), x: 0, y: 0, width: 0, height: 0 };
    const el = node.element;
    if (el && typeof el.getBoundingClientRect === 'function') {
      const r = el.getBoundingClientRect();
      ex.x = r.left + window.scrollX;
      ex.y = r.top + window.scrollY;
      ex.width = r.width;
      ex.height = r.height;
    }
    return ex;
  };
  const convert = (results) => {
    const out = [];
    for (const r of results || []) {
      // min_impact keeps the elements whose impact reaches it; an
      // element without an impact (some incomplete results) stays.
      const nodes = (r.nodes || []).filter((n) => {
        const imp = n.impact || r.impact;
        return !imp || (rank[imp] || 0) >= min;
      });
      if (nodes.length === 0) continue;
      let impact = null;
      for (const n of nodes) {
        const imp = n.impact || r.impact;
        if (imp && (impact === null || rank[imp] > rank[impact])) impact = imp;
      }
      out.push({
        id: r.id,
        impact: impact || '',
        tags: r.tags || [],
        help: r.help || '',
        helpUrl: r.helpUrl || '',
        count: nodes.length,
        examples: nodes.slice(0, opts.examples).map(example),
      });
    }
    return out;
  };
  return {
    url: location.href,
    version: ax.version,
    violations: convert(res.violations),
    incomplete: convert(res.incomplete),
  };
}
