import { defineConfig } from '@playwright/test';
import { chromiumLaunch } from './tests/browser';
import { discordPublicKeyHex } from './tests/discord-keys';

// The portal under test: the release binary on a fresh SQLite database with demo data.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// The SMTP sink (smtp-sink.mjs) the portal sends its email to; the specs read it over HTTP (tests/mail.ts).
// Derived from the portal's port so that runs with another E2E_PORT do not collide. Exported in process.env
// because this file is evaluated in the worker processes too, where tests/mail.ts looks the port up.
process.env.SMTP_SINK_PORT ??= String(port + 25);
process.env.SMTP_SINK_HTTP_PORT ??= String(port + 26);
const smtpPort = Number(process.env.SMTP_SINK_PORT);
const smtpHttpPort = Number(process.env.SMTP_SINK_HTTP_PORT);
// The TURN server tests/video.spec.ts starts (coturn) and the secret the portal shares with it. The portal always
// lists it; pages use it only with ?relay=1, or as one more candidate when it runs.
process.env.TURN_PORT ??= String(port + 78);
process.env.TURN_SECRET ??= 'e2e-turn-shared-secret';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunch(),
  },
  projects: [
    { name: 'phone', use: { viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true } },
    { name: 'desktop', use: { viewport: { width: 1280, height: 800 } } },
  ],
  webServer: [
    {
      command: 'node smtp-sink.mjs',
      url: `http://127.0.0.1:${smtpHttpPort}/health`,
      reuseExistingServer: false,
      timeout: 10_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        SMTP_SINK_PORT: String(smtpPort),
        SMTP_SINK_HTTP_PORT: String(smtpHttpPort),
      },
    },
    {
      command:
        'rm -rf ../target/e2e && ../target/release/supportal --demo ' +
        `--bind 127.0.0.1:${port} --database-url sqlite://../target/e2e/supportal.db --site-root ../target/site`,
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        // Many sign-ins from one address in a few seconds: only the tests need this much room.
        SUPPORTAL_SIGNIN_ATTEMPTS: '1000',
        SUPPORTAL_REGISTRATIONS_PER_HOUR: '1000',
        SUPPORTAL_URGENT_TICKETS_PER_HOUR: '1000',
        SUPPORTAL_TICKETS_PER_HOUR: '1000',
        // Writes count per user (not per session): the demo users write a lot across the suite.
        SUPPORTAL_WRITES_PER_MINUTE: '100000',
        // The video spec joins the same call a few dozen times (timing runs, phone and desktop, host and relay).
        SUPPORTAL_CALL_SIGNALS_PER_10_MINUTES: '100000',
        // The tests' webhook and Discord receivers listen on loopback, a private destination.
        SUPPORTAL_OUTBOUND_ALLOW: '127.0.0.1',
        // Email goes to the SMTP sink above (plain SMTP, no TLS, no AUTH).
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        // The Discord specs sign interactions with the private half of this key (tests/discord-keys.ts).
        SUPPORTAL_DISCORD_PUBLIC_KEY: discordPublicKeyHex(),
        // Video calls: TURN on loopback (started by tests/video.spec.ts for its relay-only run).
        SUPPORTAL_TURN_URLS: `turn:127.0.0.1:${process.env.TURN_PORT}?transport=udp`,
        SUPPORTAL_TURN_SECRET: process.env.TURN_SECRET,
        RUST_LOG: 'warn',
      },
    },
  ],
});
