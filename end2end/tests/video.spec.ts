import { APIRequestContext, Browser, expect, Locator, Page, test } from '@playwright/test';
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { chromiumLaunch } from './browser';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, signInAs } from './support';

// Video in the portal's call room, between two real Chromium contexts with fake camera, microphone and
// screen: once with host candidates only, once through coturn with relay only.
//
// The demo holds a portal call under way between Ada Builder (Platinum) and Morgan Manager, used here (the
// other demo call may have been marked done by calls.spec.ts).

const ADA = 'ada@community.supportal.test';

// This file's browser fakes media devices and screen capture (the other specs keep the config's flags).
test.use({
  permissions: ['camera', 'microphone'],
  launchOptions: chromiumLaunch([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--auto-accept-this-tab-capture',
    '--autoplay-policy=no-user-gesture-required',
  ]),
});

const turnPort = Number(process.env.TURN_PORT);
const turnSecret = process.env.TURN_SECRET ?? '';

async function bearer(request: APIRequestContext, email: string): Promise<Record<string, string>> {
  const token = await request.post('/api/v1/auth/tokens', { data: { email, password: DEMO_PASSWORD, label: 'e2e' } });
  expect(token.status()).toBe(201);
  return { Authorization: `Bearer ${(await token.json()).token}` };
}

/** Ada's portal call that is under way now. */
async function liveCall(request: APIRequestContext): Promise<{ id: number; customer_name: string; agent_name: string }> {
  const calls = await request.get('/api/v1/bookings?scope=upcoming', { headers: await bearer(request, ADA) });
  expect(calls.status()).toBe(200);
  const now = Date.now();
  const live = (await calls.json()).items.find(
    (b: { platform: string; start: string; end: string; status: string }) =>
      b.platform === 'portal' && b.status === 'booked' && Date.parse(b.start) - 10 * 60_000 <= now && now < Date.parse(b.end),
  );
  expect(live, 'the demo data holds a portal call of Ada under way').toBeTruthy();
  return live;
}

async function agentPage(browser: Browser, like: Page): Promise<Page> {
  const context = await browser.newContext({
    baseURL: new URL(like.url()).origin,
    viewport: like.viewportSize() ?? undefined,
    permissions: ['camera', 'microphone'],
  });
  const page = await context.newPage();
  await signInAs(page, demo.manager);
  return page;
}

async function openRoom(page: Page, id: number, relay: boolean): Promise<void> {
  await page.goto(`/calls/${id}/room${relay ? '?relay=1' : ''}`);
  await hydrated(page);
  await expect(page.getByTestId('video-call')).toBeVisible();
}

/** Frames the element has shown (decoded and presented). */
async function frames(video: Locator): Promise<number> {
  return video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
}

/** The video shows frames, and keeps showing new ones for more than a second. */
async function expectFramesRising(video: Locator): Promise<number> {
  await expect.poll(() => frames(video), { timeout: 20_000 }).toBeGreaterThan(0);
  const before = await frames(video);
  await video.page().waitForTimeout(1500);
  const after = await frames(video);
  expect(after - before, 'new frames in 1.5 s').toBeGreaterThan(10);
  return after - before;
}

/** Clicks Join in `page` and measures the milliseconds until the first remote frame is shown. */
async function joinAndTime(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const start = performance.now();
    (document.querySelector('[data-testid="join-video"]') as HTMLButtonElement).click();
    for (;;) {
      const video = document.querySelector('[data-testid="remote-video"]') as HTMLVideoElement | null;
      if (video && video.getVideoPlaybackQuality().totalVideoFrames > 0) return performance.now() - start;
      if (performance.now() - start > 20_000) throw new Error('no remote frame within 20 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

/** CPU time (ms) the portal server under test has used so far; undefined when it cannot be found (not Linux). */
function serverCpuMs(baseURL: string): number | undefined {
  try {
    const port = new URL(baseURL).port;
    const pid = execFileSync('pgrep', ['-f', `^[^ ]*supportal --demo --bind 127.0.0.1:${port}`]).toString().trim().split('\n')[0];
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * The whole call: both join, camera frames flow both ways over `route`, a shared screen flows, mute reaches the
 * other side, hang-up ends both sides; then ten more joins for the time to the first remote frame.
 */
async function fullCall(page: Page, browser: Browser, request: APIRequestContext, relay: boolean): Promise<void> {
  test.setTimeout(180_000);
  const call = await liveCall(request);
  await signInAs(page, ADA);
  await openRoom(page, call.id, relay);
  const agent = await agentPage(browser, page);
  await openRoom(agent, call.id, relay);
  // Each sees the other in the room, so whoever joins offers to the other.
  await expect(page.getByTestId('room-presence')).toContainText(call.agent_name);
  await expect(agent.getByTestId('room-presence')).toContainText(call.customer_name);

  // Phones: the chat below the video; desktops: beside it.
  const columns = await page.locator('.room-layout').evaluate((el) => getComputedStyle(el).gridTemplateColumns.split(' ').length);
  expect(columns).toBe((page.viewportSize()?.width ?? 0) < 960 ? 1 : 2);

  // A preview first: the camera shows before joining, with the device pickers.
  await page.getByTestId('preview-call').click();
  await expectFramesRising(page.getByTestId('local-video'));
  await expect(page.getByTestId('camera-select').locator('option')).not.toHaveCount(0);
  await expectAccessible(page);

  await page.getByTestId('join-video').click();
  await expect(page.getByTestId('call-state')).toContainText(/Waiting for the others|onnect/);
  const firstJoin = await joinAndTime(agent);
  const route = relay ? 'relay' : 'host';
  for (const side of [page, agent]) {
    const tile = side.getByTestId('remote-tile');
    await expect(tile).toHaveCount(1);
    await expectFramesRising(tile.getByTestId('remote-video'));
    await expect(tile).toHaveAttribute('data-route', route, { timeout: 10_000 });
    await expect(side.getByTestId('call-state')).toContainText('connected');
  }
  await expectAccessible(agent);

  // The report's numbers are taken once per route, at the desktop size (the phone run checks the same call).
  const measure = test.info().project.name === 'desktop';
  // The server carries no media: its CPU time over ten seconds of call.
  const cpuBefore = measure ? serverCpuMs(page.url()) : undefined;
  if (measure) await page.waitForTimeout(10_000);
  const cpuAfter = measure ? serverCpuMs(page.url()) : undefined;
  if (cpuBefore !== undefined && cpuAfter !== undefined) {
    const cpu = `server CPU during 10 s of a ${route} call (${test.info().project.name}): ${cpuAfter - cpuBefore} ms`;
    console.log(cpu);
    test.info().annotations.push({ type: 'server cpu', description: cpu });
  }

  // Screen sharing: the customer's screen arrives on the agent's side as the large tile.
  await page.getByTestId('share-screen').click();
  await expect(page.getByTestId('share-screen')).toHaveAttribute('aria-pressed', 'true');
  const agentTile = agent.getByTestId('remote-tile');
  await expect(agentTile).toHaveClass(/sharing/);
  await expectFramesRising(agentTile.getByTestId('remote-screen'));
  // The camera keeps flowing beside it.
  await expectFramesRising(agentTile.getByTestId('remote-video'));
  await page.getByTestId('share-screen').click();
  await expect(agentTile).not.toHaveClass(/sharing/);

  // Mute: the customer's microphone track stops, and the agent is told.
  await page.getByTestId('mute').click();
  await expect(page.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
  expect(
    await page.getByTestId('local-video').evaluate((v: HTMLVideoElement) => (v.srcObject as MediaStream).getAudioTracks()[0]?.enabled),
  ).toBe(false);
  await expect(agentTile).toHaveAttribute('data-muted', 'true');
  await expect(agentTile.getByTestId('remote-label')).toContainText('muted');
  await page.getByTestId('mute').click();
  await expect(agentTile).toHaveAttribute('data-muted', 'false');

  // Hang-up ends both sides.
  await page.getByTestId('hang-up').click();
  await expect(page.getByTestId('call-state')).toHaveText('You left the call.');
  await expect(agent.getByTestId('call-state')).toContainText('hung up. The call has ended.');
  await expect(agent.getByTestId('remote-tile')).toHaveCount(0);
  await expect(page.getByTestId('remote-tile')).toHaveCount(0);
  // The text chat stays.
  await expect(page.getByLabel('Message')).toBeVisible();

  // Time from Join to the first remote frame, over ten more joins.
  const times = [firstJoin];
  for (let i = 0; i < (measure ? 9 : 0); i++) {
    await page.getByTestId('join-video').click();
    await expect(page.getByTestId('call-state')).toContainText(/Waiting for the others|onnect/);
    times.push(await joinAndTime(agent));
    await agent.getByTestId('hang-up').click();
    await expect(page.getByTestId('call-state')).toContainText('hung up');
  }
  const summary = `join → first remote frame (${route}, ${test.info().project.name}): p50 ${p50(times).toFixed(0)} ms, ` +
    `min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms over ${times.length} joins`;
  console.log(summary);
  test.info().annotations.push({ type: 'timing', description: summary });
  await agent.context().close();
}

test.describe('video calls', () => {
  test('customer and agent see and hear each other, share a screen, mute and hang up (host candidates)', async ({
    page,
    browser,
    request,
  }) => {
    await fullCall(page, browser, request, false);
  });

  test("a stranger's signal is refused and the room does not exist for them", async ({ page, request }) => {
    const call = await liveCall(request);
    await signInAs(page, demo.platinum);
    const refused = await page.request.post(`/api/v1/bookings/${call.id}/signal`, {
      data: { kind: 'offer', payload: { sdp: 'v=0' } },
    });
    expect(refused.status()).toBe(404);
    expect((await page.request.get(`/api/v1/bookings/${call.id}/ice`)).status()).toBe(404);
    await page.goto(`/calls/${call.id}/room`);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  });

  test.describe('through TURN', () => {
    let turn: ChildProcess | undefined;

    test.beforeAll(async () => {
      // coturn from Debian (scripts/setup.sh --test), on loopback with the portal's shared secret.
      turn = spawn(
        'turnserver',
        [
          '-n',
          '--listening-ip=127.0.0.1',
          '--relay-ip=127.0.0.1',
          `--listening-port=${turnPort}`,
          `--min-port=${turnPort + 100}`,
          `--max-port=${turnPort + 199}`,
          '--use-auth-secret',
          `--static-auth-secret=${turnSecret}`,
          '--realm=supportal.test',
          '--allow-loopback-peers',
          '--no-tls',
          '--no-dtls',
          '--no-cli',
          '--log-file=stdout',
        ],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        const up = await new Promise<boolean>((resolve) => {
          const socket = net.connect(turnPort, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        });
        if (up) break;
        if (Date.now() > deadline || turn.exitCode !== null) throw new Error('turnserver did not start (is coturn installed?)');
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    test.afterAll(async () => {
      turn?.kill('SIGTERM');
    });

    test('the same call relayed through coturn only (iceTransportPolicy "relay")', async ({ page, browser, request }) => {
      await fullCall(page, browser, request, true);
    });
  });
});
