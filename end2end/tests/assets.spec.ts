import { expect, test } from '@playwright/test';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * How the built front end is served (issue 20): every file under /pkg has brotli and gzip twins written at
 * build time and is served from them, with a content hash in its name and a year of immutable caching; pages
 * are `no-cache` and reference only hashed assets. Reads the site the server under test serves.
 */
const siteRoot = join(__dirname, '..', '..', 'target', 'site');
const pkgDir = join(siteRoot, 'pkg');
const IMMUTABLE = 'public, max-age=31536000, immutable';
const HASHED = /^[^/]+\.[A-Za-z0-9_-]{22}\.[a-z0-9]+$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test.describe('static assets', () => {
  test.skip(({ isMobile }) => !isMobile, 'checked once, in the phone project');

  test('every /pkg file has precompressed twins, a hashed name and immutable caching', async ({ request }) => {
    const all = files(pkgDir);
    const originals = all.filter((f) => !f.endsWith('.br') && !f.endsWith('.gz'));
    expect(originals.length).toBeGreaterThanOrEqual(3);
    for (const file of originals) {
      const url = `/pkg/${relative(pkgDir, file).split('\\').join('/')}`;
      expect(all, `${file} has no .br twin`).toContain(`${file}.br`);
      expect(all, `${file} has no .gz twin`).toContain(`${file}.gz`);
      expect(url.split('/').pop(), `${url} has no content hash in its name`).toMatch(HASHED);
      for (const [accept, encoding, twin] of [
        ['br, gzip', 'br', `${file}.br`],
        ['gzip', 'gzip', `${file}.gz`],
        ['identity', undefined, file],
      ] as const) {
        const r = await request.get(url, { headers: { 'accept-encoding': accept } });
        expect(r.status(), url).toBe(200);
        expect(r.headers()['content-encoding'], `${url} for ${accept}`).toBe(encoding);
        expect(r.headers()['cache-control'], `${url} for ${accept}`).toBe(IMMUTABLE);
        // The very file written at build time, not a compression made for this request.
        expect(Number(r.headers()['content-length']), `${url} for ${accept}`).toBe(statSync(twin).size);
      }
    }
  });

  test('pages are revalidated and reference only hashed assets', async ({ request }) => {
    for (const path of ['/', '/kb', '/signin', '/no-such-page']) {
      const r = await request.get(path, { headers: { 'accept-encoding': 'br, gzip' } });
      expect(r.headers()['content-type'], path).toContain('text/html');
      expect(r.headers()['cache-control'], path).toBe('no-cache');
      const html = await r.text();
      const refs = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]).filter((u) => u.startsWith('/pkg/'));
      // The hydration script names the JS and WASM by stem ("supportal.<hash>"), after the pkg folder.
      const stems = [...html.matchAll(/"pkg", "([^"]+)", "([^"]+)"/g)].flatMap((m) => [`${m[1]}.js`, `${m[2]}.wasm`]);
      expect(refs.some((u) => u.endsWith('.css')), `${path} links no stylesheet`).toBe(true);
      expect(refs.some((u) => u.endsWith('.wasm')), `${path} preloads no WASM`).toBe(true);
      expect(stems.length, `${path} has no hydration script`).toBe(2);
      for (const ref of [...refs, ...stems]) {
        expect(ref.split('/').pop(), `${path} references ${ref}`).toMatch(HASHED);
      }
      // Every stylesheet and script the page names outside /pkg would escape the rules above.
      const others = [...html.matchAll(/<(?:script|link)[^>]*(?:src|href)="([^"]+)"[^>]*>/g)]
        .map((m) => m[1])
        .filter((u) => !u.startsWith('/pkg/') && u !== '/favicon.svg');
      expect(others, path).toEqual([]);
    }
  });

  test('a repeat visit downloads only the page', async ({ browser, baseURL }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await page.goto(`${baseURL}/kb`);
    await page.waitForFunction(() => (window as any).__supportalHydrated === true);
    const fetched: string[] = [];
    const cached = new Set<string>();
    cdp.on('Network.requestServedFromCache', ({ requestId }: any) => cached.add(requestId));
    cdp.on('Network.responseReceived', ({ requestId, response }: any) => {
      if (!cached.has(requestId) && !response.fromDiskCache && !response.fromPrefetchCache) {
        fetched.push(new URL(response.url).pathname);
      }
    });
    await page.goto(`${baseURL}/kb`);
    await page.waitForFunction(() => (window as any).__supportalHydrated === true);
    expect(fetched.filter((p) => p.startsWith('/pkg/'))).toEqual([]);
    expect(fetched).toContain('/kb');
    await context.close();
  });
});
