// Counts the changed pixels pixelmatch finds in each picture pair of the
// directory given, at each threshold, with and without anti-aliasing
// detection, and prints them as JSON for visual_test.go. Run by
// regenerate.sh, with PIXELMATCH_DIR the npm prefix where pixelmatch and
// pngjs are installed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const prefix = process.env.PIXELMATCH_DIR;
const require = createRequire(path.join(prefix, 'package.json'));
const { PNG } = require('pngjs');
const pmDir = path.join(prefix, 'node_modules', 'pixelmatch');
const { default: pixelmatch } = await import(pathToFileURL(path.join(pmDir, 'index.js')));
const version = JSON.parse(fs.readFileSync(path.join(pmDir, 'package.json'))).version;

const dir = process.argv[2];
const thresholds = [0, 0.05, 0.1, 0.2];
const cases = {};
for (const f of fs.readdirSync(dir).filter(f => f.endsWith('-a.png')).sort()) {
  const name = f.slice(0, -'-a.png'.length);
  const a = PNG.sync.read(fs.readFileSync(path.join(dir, f)));
  const b = PNG.sync.read(fs.readFileSync(path.join(dir, name + '-b.png')));
  const counts = [];
  for (const threshold of thresholds) {
    for (const includeAA of [false, true]) {
      // checkerboard: false compares translucent pixels over white, as
      // agent/visual does.
      const changed = pixelmatch(a.data, b.data, null, a.width, a.height, { threshold, includeAA, checkerboard: false });
      counts.push({ threshold, include_aa: includeAA, changed });
    }
  }
  cases[name] = { width: a.width, height: a.height, counts };
}
process.stdout.write(JSON.stringify({ pixelmatch: version, cases }, null, 2) + '\n');
