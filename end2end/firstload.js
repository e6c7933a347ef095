// First-load weight of a page as a browser sees it: every /pkg asset (WASM, JS, CSS, and any chunk loaded
// later) a fresh browser fetches until the page is hydrated, in the encoding the server chose, and what a
// repeat visit in the same browser transfers. Used by the budget check (tests/budget.spec.ts) and the
// benchmark (scripts/bench_firstload.sh → firstload-report.mjs). Plain CommonJS so both can load it.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** end2end/budget.json: the pages, who views them, and their budgets. */
exports.loadBudget = function loadBudget() {
  return JSON.parse(readFileSync(join(__dirname, 'budget.json'), 'utf8'));
}

/** Demo data the page list refers to: `{ticket}` is a ticket of the viewer, `{article}` a published article. */
exports.resolvePath = async function resolvePath(request, baseURL, path, cookie) {
  const headers = cookie ? { cookie } : {};
  let resolved = path;
  if (resolved.includes('{ticket}')) {
    const r = await request.get(`${baseURL}/api/v1/tickets?limit=1`, { headers });
    const id = (await r.json()).items?.[0]?.id;
    if (!id) throw new Error(`no ticket to open for ${path}`);
    resolved = resolved.replace('{ticket}', String(id));
  }
  if (resolved.includes('{article}')) {
    const r = await request.get(`${baseURL}/api/v1/articles?limit=1`, { headers });
    const slug = (await r.json()).items?.[0]?.slug;
    if (!slug) throw new Error(`no article to open for ${path}`);
    resolved = resolved.replace('{article}', slug);
  }
  return resolved;
}

/** A session cookie (`name=value`) for a demo user, from the sign-in endpoint. */
exports.sessionCookie = async function sessionCookie(request, baseURL, email, password) {
  const r = await request.post(`${baseURL}/api/v1/auth/session`, { data: { email, password } });
  if (!r.ok()) throw new Error(`sign-in as ${email} answered ${r.status()}`);
  const setCookie = r.headersArray().find((h) => h.name.toLowerCase() === 'set-cookie');
  if (!setCookie) throw new Error(`sign-in as ${email} set no cookie`);
  return setCookie.value.split(';')[0];
}

function kind(path) {
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  return 'other';
}

/**
 * Opens `path` in a fresh context of `browser` (empty cache), waits for hydration and for every /pkg fetch
 * to finish, then opens it again in the same context. Returns the /pkg bytes of the first load (response
 * bodies as sent: brotli when the browser asks for it), per kind, the assets themselves, and the bytes the
 * repeat visit transferred (HTML included), per URL.
 */
exports.measureFirstLoad = async function measureFirstLoad(browser, baseURL, path, cookie) {
  const context = await browser.newContext({ baseURL });
  if (cookie) {
    const [name, ...value] = cookie.split('=');
    await context.addCookies([{ name, value: value.join('='), url: baseURL }]);
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  const requests = new Map();
  let pending = 0;
  let settled = () => {};
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const url = new URL(response.url);
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    requests.set(requestId, {
      path: url.pathname,
      status: response.status,
      encoding: headers['content-encoding'] ?? 'identity',
      cacheControl: headers['cache-control'] ?? '',
      fromCache: Boolean(response.fromDiskCache || response.fromPrefetchCache || response.fromServiceWorker),
      transferred: 0,
      body: 0,
    });
  });
  cdp.on('Network.requestWillBeSent', ({ request }) => {
    if (new URL(request.url).pathname.startsWith('/pkg/')) pending++;
  });
  const finish = (requestId, encodedDataLength, failed) => {
    const r = requests.get(requestId);
    if (r && !failed) r.transferred = encodedDataLength;
    if (r?.path.startsWith('/pkg/') || (!r && failed)) {
      pending = Math.max(0, pending - 1);
      if (pending === 0) settled();
    }
  };
  cdp.on('Network.dataReceived', ({ requestId, encodedDataLength }) => {
    const r = requests.get(requestId);
    if (r) r.body += encodedDataLength;
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => finish(requestId, encodedDataLength, false));
  cdp.on('Network.loadingFailed', ({ requestId }) => finish(requestId, 0, true));

  const visit = async () => {
    requests.clear();
    const done = new Promise((resolve) => (settled = resolve));
    const response = await page.goto(path);
    if (!response || response.status() >= 400) throw new Error(`${path} answered ${response?.status()}`);
    await page.waitForFunction(() => window.__supportalHydrated === true, undefined, { timeout: 30_000 });
    if (pending > 0) await Promise.race([done, page.waitForTimeout(10_000)]);
    // Give a lazily loaded chunk that starts right after hydration the chance to be counted.
    await page.waitForTimeout(300);
    if (pending > 0) await Promise.race([done, page.waitForTimeout(10_000)]);
    return [...requests.values()];
  };

  const first = await visit();
  const assets = first.filter((r) => r.path.startsWith('/pkg/'));
  const bytes = { wasm: 0, js: 0, css: 0, other: 0 };
  for (const a of assets) bytes[kind(a.path)] += a.body;
  const total = bytes.wasm + bytes.js + bytes.css + bytes.other;

  const again = await visit();
  const repeat = again.filter((r) => r.transferred > 0).map((r) => ({ path: r.path, transferred: r.transferred }));
  await context.close();
  return { path, bytes, total, assets, repeat };
}
