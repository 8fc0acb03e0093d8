// Builds the page into dist/: the script and stylesheet bundled and
// minified by esbuild under content-hashed names (served as immutable),
// and index.html naming them (served no-cache). The same sources and
// esbuild version give the same bytes: CI rebuilds and compares.

import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src/main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
});

const outs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outs.find((f) => f.endsWith('.js'));
const css = outs.find((f) => f.endsWith('.css'));
const html = readFileSync(join(here, 'src/index.html'), 'utf8').replace('{{JS}}', js).replace('{{CSS}}', css);
writeFileSync(join(dist, 'index.html'), html);

for (const f of [js, css]) {
  const b = readFileSync(join(dist, 'assets', f));
  console.log(`${f}: ${b.length} bytes, ${gzipSync(b, { level: 9 }).length} gzipped`);
}
