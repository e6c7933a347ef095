// Prints, for the pages of end2end/budget.json, the first-load /pkg bytes a fresh browser downloads, what a
// repeat visit transfers, and (unless LIGHTHOUSE is empty) Lighthouse's mobile performance figures.
// Run by scripts/bench_firstload.sh:  node end2end/firstload-report.mjs http://127.0.0.1:3201
import { chromium, request as playwrightRequest } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import firstload from './firstload.js';

const { loadBudget, measureFirstLoad, resolvePath, sessionCookie } = firstload;

const baseURL = process.argv[2] ?? 'http://127.0.0.1:3201';
const lighthouse = process.env.LIGHTHOUSE ?? '';
const chromePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const password = 'supportal-demo';
const users = {
  platinum: 'platinum@demo.supportal.test',
  general: 'general@demo.supportal.test',
  l1: 'l1@demo.supportal.test',
  manager: 'manager@demo.supportal.test',
};
// Lighthouse runs on the pages the issue names (a subset of the budget's pages).
const LIGHTHOUSE_PAGES = ['/', '/kb', '/tickets/new', '/tickets/{ticket}|platinum', '/queue'];

const budget = loadBudget();
const api = await playwrightRequest.newContext();
const browser = await chromium.launch({ executablePath: chromePath, args: ['--no-sandbox', '--disable-gpu'] });
const cookies = {};
// Each sign-in in a request context of its own: a context keeps the cookies it is given, and signing in with
// another user's session cookie ends that session (sessions rotate at sign-in).
const signIn = async (who) => {
  const context = await playwrightRequest.newContext();
  try {
    return await sessionCookie(context, baseURL, users[who], password);
  } finally {
    await context.dispose();
  }
};
const cookieFor = async (who) => (who ? (cookies[who] ??= await signIn(who)) : undefined);

const kb = (n) => (n / 1000).toFixed(1);
console.log('\n== first load: /pkg bytes as sent (brotli), fresh browser; then a repeat visit in the same browser');
console.log('page                          viewer     WASM KB   JS KB  CSS KB  other KB   total KB  budget KB  repeat visit transfers');
const rows = [];
for (const entry of budget.pages) {
  const cookie = await cookieFor(entry.as);
  const path = await resolvePath(api, baseURL, entry.path, cookie);
  const load = await measureFirstLoad(browser, baseURL, path, cookie);
  rows.push({ entry, path, load });
  const repeat = load.repeat.map((r) => `${r.path} ${kb(r.transferred)} KB`).join(', ') || 'nothing';
  console.log(
    `${entry.path.padEnd(29)} ${(entry.as ?? 'anonymous').padEnd(9)} ${kb(load.bytes.wasm).padStart(8)} ${kb(load.bytes.js).padStart(7)} ${kb(load.bytes.css).padStart(7)} ${kb(load.bytes.other).padStart(9)} ${kb(load.total).padStart(10)} ${String(entry.budget_kb).padStart(10)}  ${repeat}`,
  );
}
await browser.close();

if (lighthouse) {
  console.log('\n== Lighthouse ' + execFileSync(lighthouse, ['--version']).toString().trim() + ' (mobile, simulated throttling), Debian chromium');
  console.log('page                          viewer     score   FCP s   LCP s   TTI s   TBT ms    CLS   total KiB');
  const dir = mkdtempSync(join(tmpdir(), 'lighthouse-'));
  for (const spec of LIGHTHOUSE_PAGES) {
    const [pattern, forced] = spec.split('|');
    const entry = budget.pages.find((e) => e.path === pattern && (!forced || e.as === forced));
    const who = entry?.as;
    const cookie = await cookieFor(who);
    const path = await resolvePath(api, baseURL, pattern, cookie);
    const out = join(dir, 'report.json');
    const args = [
      `${baseURL}${path}`,
      '--quiet',
      '--only-categories=performance',
      '--output=json',
      `--output-path=${out}`,
      '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
    ];
    if (cookie) args.push(`--extra-headers=${JSON.stringify({ Cookie: cookie })}`);
    try {
      execFileSync(lighthouse, args, { env: { ...process.env, CHROME_PATH: chromePath }, stdio: ['ignore', 'ignore', 'pipe'] });
      const report = JSON.parse(readFileSync(out, 'utf8'));
      const a = report.audits;
      const s = (id) => ((a[id]?.numericValue ?? NaN) / 1000).toFixed(2).padStart(7);
      console.log(
        `${pattern.padEnd(29)} ${(who ?? 'anonymous').padEnd(9)} ${String(Math.round(report.categories.performance.score * 100)).padStart(6)} ${s('first-contentful-paint')} ${s('largest-contentful-paint')} ${s('interactive')} ${String(Math.round(a['total-blocking-time'].numericValue)).padStart(8)} ${a['cumulative-layout-shift'].numericValue.toFixed(3).padStart(6)} ${(a['total-byte-weight'].numericValue / 1024).toFixed(0).padStart(10)}`,
      );
    } catch (e) {
      console.log(`${pattern.padEnd(29)} lighthouse failed: ${String(e.stderr ?? e).split('\n')[0]}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
await api.dispose();
