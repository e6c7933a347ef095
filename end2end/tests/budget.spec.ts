import { expect, test } from '@playwright/test';
import { DEMO_PASSWORD, demo } from './support';
// Plain JavaScript, shared with scripts/bench_firstload.sh.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { loadBudget, measureFirstLoad, resolvePath, sessionCookie } = require('../firstload.js');

/**
 * The first-load budget (end2end/budget.json): what a fresh browser downloads from /pkg (WASM, JS, CSS and any
 * chunk it loads while the page hydrates) for each page a customer lands on, and for the staff pages, in the
 * encoding the server sends (brotli). A page over its budget by more than the tolerance fails. Sizes, not
 * times: nothing here depends on how fast the machine is.
 */
const budget = loadBudget();
const users: Record<string, string> = demo;

test.describe('first-load budget', () => {
  // The bytes do not depend on the screen; one project measures them.
  test.skip(({ isMobile }) => !isMobile, 'measured once, in the phone project');

  for (const entry of budget.pages) {
    test(`${entry.path}${entry.as ? ` (${entry.as})` : ''} stays within ${entry.budget_kb} KB`, async ({ browser, request, baseURL }) => {
      const cookie = entry.as ? await sessionCookie(request, baseURL, users[entry.as], DEMO_PASSWORD) : undefined;
      const path = await resolvePath(request, baseURL, entry.path, cookie);
      const load = await measureFirstLoad(browser, baseURL!, path, cookie);
      const detail = load.assets.map((a: any) => `${a.path} ${a.encoding} ${a.body} B`).join('\n');
      expect(load.assets.length, `no /pkg asset loaded for ${path}`).toBeGreaterThan(0);
      for (const a of load.assets) {
        expect(a.encoding, `${a.path} was not sent brotli-compressed`).toBe('br');
      }
      const limit = entry.budget_kb * 1000 * (1 + budget.tolerance);
      expect(load.total, `${path}: ${load.total} B first load, budget ${entry.budget_kb} KB + ${budget.tolerance * 100} %\n${detail}`).toBeLessThanOrEqual(limit);
    });
  }
});
