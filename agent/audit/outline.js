// Draws the audit's examples as labelled red boxes over the page for a
// screenshot, or removes them when given null. The boxes are absolutely
// positioned in document coordinates, the examples' own, and let every
// event through.
(boxes) => {
  const ID = '__uxprobe_audit_outline';
  const old = document.getElementById(ID);
  if (old) old.remove();
  if (!boxes || !boxes.length) return true;
  const layer = document.createElement('div');
  layer.id = ID;
  layer.style.cssText = 'position:absolute;left:0;top:0;width:0;height:0;z-index:2147483647;pointer-events:none;';
  for (const b of boxes) {
    const d = document.createElement('div');
    d.style.cssText = 'position:absolute;box-sizing:border-box;border:3px solid #e00;background:rgba(255,0,0,.12);' +
      'left:' + b.x + 'px;top:' + b.y + 'px;width:' + Math.max(b.width, 6) + 'px;height:' + Math.max(b.height, 6) + 'px;';
    const label = document.createElement('span');
    label.textContent = b.rule;
    label.style.cssText = 'position:absolute;left:-3px;top:-19px;font:bold 11px/16px sans-serif;color:#fff;background:#e00;padding:0 3px;white-space:nowrap;';
    d.appendChild(label);
    layer.appendChild(d);
  }
  document.documentElement.appendChild(layer);
  return true;
}
