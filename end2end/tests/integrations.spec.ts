import { expect, Locator, Page, test } from '@playwright/test';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { demo, expectAccessible, hydrated, Nav, signInAs } from './support';
import { linkIn, waitForMail } from './mail';

/** One request the receiver got, and whether its signature matched the secret. */
interface Received {
  path: string;
  event: string | undefined;
  delivery: string | undefined;
  signature: string | undefined;
  body: string;
  signed: boolean;
}

/** A real HTTP endpoint on a free local port that checks `X-Supportal-Signature` with the shown secret. */
class Receiver {
  readonly received: Received[] = [];
  secret = '';
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.read(req).then((body) => {
        this.received.push({
          path: req.url ?? '',
          event: header(req, 'x-supportal-event'),
          delivery: header(req, 'x-supportal-delivery'),
          signature: header(req, 'x-supportal-signature'),
          body,
          signed: verify(this.secret, header(req, 'x-supportal-signature'), body),
        });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private read(req: IncomingMessage): Promise<string> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, checked in constant time. */
function verify(secret: string, signature: string | undefined, body: string): boolean {
  if (!secret || !signature) return false;
  const parts = Object.fromEntries(signature.split(',').map((p) => p.split('=', 2) as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  const given = Buffer.from(parts.v1, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function unique(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

async function openIntegrations(page: Page): Promise<void> {
  await page.goto('/admin/integrations');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Integrations' })).toBeVisible();
  await expect(page.getByText('Loading webhooks…')).toHaveCount(0);
}

/** The page object of the "Outgoing webhooks" section. */
class Webhooks {
  readonly form: Locator;

  constructor(private page: Page) {
    this.form = page.getByTestId('add-webhook');
  }

  card(url: string): Locator {
    return this.page.getByTestId('webhook').filter({ has: this.page.getByTestId('webhook-url').getByText(url, { exact: true }) });
  }

  async add(url: string, events: string[], description = ''): Promise<void> {
    await this.form.locator('#webhook-url').fill(url);
    for (const label of events) {
      await this.form.getByRole('checkbox', { name: label }).check();
    }
    await this.form.getByLabel('Description (optional)').fill(description);
    await this.form.getByRole('button', { name: 'Add webhook' }).click();
  }

  async count(): Promise<number> {
    const response = await this.page.request.get('/api/v1/webhooks');
    expect(response.status()).toBe(200);
    return (await response.json()).items.length;
  }
}

test.describe('integrations', () => {
  let receiver: Receiver;

  test.beforeEach(async () => {
    receiver = new Receiver();
    await receiver.start();
  });

  test.afterEach(async () => {
    await receiver.stop();
  });

  test('a manager adds a signed webhook, sees its secret once, sends a test and sees it delivered', async ({ page }, testInfo) => {
    await signInAs(page, demo.manager);
    const nav = new Nav(page);
    expect(await nav.linkNames()).toContain('Integrations');
    await openIntegrations(page);
    await expectAccessible(page);
    const hooks = new Webhooks(page);
    const before = await hooks.count();

    // a bad URL is refused beside the field and nothing is created
    await hooks.add('ftp://x', ['New ticket']);
    await expect(hooks.form.locator('#webhook-url-error')).toContainText('http:// or https://');
    await expect(hooks.form.locator('#webhook-url')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByTestId('webhook-secret-box')).toHaveCount(0);
    expect(await hooks.count()).toBe(before);
    await expectAccessible(page);

    // the cloud metadata address is a private destination: refused beside the field, nothing created
    await hooks.form.locator('#webhook-url').fill('http://169.254.169.254/latest/meta-data');
    await hooks.form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(hooks.form.locator('#webhook-url-error')).toContainText('private or local network');
    await expect(hooks.form.locator('#webhook-url')).toHaveAttribute('aria-invalid', 'true');
    expect(await hooks.count()).toBe(before);

    // no event ticked: the events are refused
    const url = receiver.url(`/hooks/${unique('e2e')}`);
    await hooks.form.getByRole('checkbox', { name: 'New ticket' }).uncheck();
    await hooks.form.locator('#webhook-url').fill(url);
    await hooks.form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(hooks.form.locator('#webhook-events-error')).toContainText('at least one event');
    await expect(hooks.form.locator('#webhook-url')).toHaveAttribute('aria-invalid', 'false');

    await hooks.add(url, ['New ticket', 'SLA breached'], 'e2e receiver');
    const box = page.getByTestId('webhook-secret-box');
    await expect(box).toContainText('Copy this secret now; it will not be shown again.');
    await expect(box).toContainText('X-Supportal-Signature');
    await expect(box).toContainText('X-Supportal-Event');
    await expect(box).toContainText('X-Supportal-Delivery');
    const secret = (await page.getByTestId('webhook-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    receiver.secret = secret;
    // the form is empty again for the next webhook
    await expect(hooks.form.locator('#webhook-url')).toHaveValue('');
    await expect(hooks.form.getByRole('checkbox', { name: 'New ticket' })).not.toBeChecked();

    const card = hooks.card(url);
    await expect(card).toHaveCount(1);
    await expect(card.getByTestId('webhook-state')).toHaveText('Active');
    await expect(card.getByTestId('webhook-events')).toHaveText('New ticket, SLA breached');
    await expect(card.getByTestId('delivery-empty')).toHaveText('No deliveries yet.');
    expect(await hooks.count()).toBe(before + 1);
    await expectAccessible(page);
    if (testInfo.project.name === 'phone') {
      // the log and the long URL stay inside their boxes; the page never scrolls sideways
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    }

    // send a test: the log fills in live, without a reload
    await page.evaluate(() => ((window as any).__sameDocument = 'yes'));
    const sendTest = card.getByRole('button', { name: 'Send test' });
    await sendTest.focus();
    await page.keyboard.press('Enter');
    await expect(card.getByTestId('webhook-test-status')).toContainText('Test queued');
    const row = card.getByTestId('delivery').first();
    await expect(row.getByTestId('delivery-status')).toHaveText('delivered', { timeout: 20_000 });
    await expect(row.getByTestId('delivery-http')).toHaveText('200');
    await expect(row.getByTestId('delivery-latency')).toHaveText(/^\d+$/);
    await expect(row).toContainText('ping');
    await expect(card.getByTestId('webhook-counts')).toHaveText('1 of 1');
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe('yes');
    // the live refreshes left the keyboard focus where it was
    await expect(sendTest).toBeFocused();

    // the receiver got exactly one correctly signed ping
    const pings = receiver.received.filter((r) => r.event === 'ping');
    expect(pings).toHaveLength(1);
    expect(pings[0].signed).toBe(true);
    expect(pings[0].delivery).toBeTruthy();
    expect(JSON.parse(pings[0].body).type).toBe('ping');
    if (testInfo.project.name === 'phone') {
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    }
    await expectAccessible(page);

    // after a reload the secret is gone for good
    await page.reload();
    await openIntegrations(page);
    await expect(page.getByTestId('webhook-secret-box')).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);
    await expect(hooks.card(url).getByTestId('delivery-status').first()).toHaveText('delivered');

    // leave nothing behind that would keep posting to a closed port
    const id = await hooks.card(url).getAttribute('data-webhook-id');
    expect((await page.request.delete(`/api/v1/webhooks/${id}`)).status()).toBe(204);
  });

  test('a manager switches a webhook off and on, and deletes it after confirming', async ({ page }) => {
    await signInAs(page, demo.manager);
    await openIntegrations(page);
    const hooks = new Webhooks(page);
    const url = receiver.url(`/hooks/${unique('switch')}`);
    await hooks.add(url, ['Call booked']);
    await expect(page.getByTestId('webhook-secret-box')).toBeVisible();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await expect(page.getByTestId('webhook-secret-box')).toHaveCount(0);

    const card = hooks.card(url);
    await card.getByRole('button', { name: 'Switch off' }).click();
    await expect(card.getByTestId('webhook-state')).toHaveText('Switched off');
    await expect(card.getByTestId('webhook-reason')).toHaveText('Switched off by a manager.');
    await expect(card.getByRole('button', { name: 'Send test' })).toBeDisabled();
    await expectAccessible(page);

    await card.getByRole('button', { name: 'Switch on' }).click();
    await expect(card.getByTestId('webhook-state')).toHaveText('Active');
    await expect(card.getByTestId('webhook-reason')).toHaveCount(0);
    await expect(card.getByRole('button', { name: 'Send test' })).toBeEnabled();

    // deleting asks first; Cancel keeps it; the keyboard works too
    await card.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(card.getByRole('group', { name: 'Confirm deletion' })).toBeVisible();
    await card.getByRole('button', { name: 'Cancel' }).click();
    await expect(card.getByRole('group', { name: 'Confirm deletion' })).toHaveCount(0);
    const remove = card.getByRole('button', { name: 'Delete', exact: true });
    await remove.focus();
    await page.keyboard.press('Enter');
    await expect(card.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(remove).toBeFocused();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+Tab');
    await expect(card.getByRole('button', { name: 'Yes, delete' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(hooks.card(url)).toHaveCount(0);
    await page.reload();
    await openIntegrations(page);
    await expect(hooks.card(url)).toHaveCount(0);
  });

  test('a manager saves a Discord URL, sees it masked, sends a test message and removes it', async ({ page }) => {
    await signInAs(page, demo.manager);
    await openIntegrations(page);
    const discord = page.getByTestId('discord');
    const input = discord.locator('#discord-url');
    const save = discord.getByRole('button', { name: 'Save Discord settings' });

    await input.fill('ftp://x');
    await save.click();
    await expect(discord.locator('#discord-url-error')).toContainText('http:// or https://');
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await expect(input).toHaveValue('ftp://x');

    const token = unique('token');
    const url = receiver.url(`/api/webhooks/42/${token}wxyz`);
    await input.fill(url);
    await discord.getByRole('checkbox', { name: 'SLA breached' }).check();
    await save.click();
    await expect(discord.getByTestId('discord-status')).toHaveText('Saved.');
    await expect(discord.getByTestId('discord-masked')).toHaveText(`http://127.0.0.1:${receiver.port}/…wxyz`);
    await expect(input).toHaveValue('');
    expect(await page.content()).not.toContain(token);

    await page.reload();
    await openIntegrations(page);
    await expect(discord.getByTestId('discord-masked')).toHaveText(`http://127.0.0.1:${receiver.port}/…wxyz`);
    await expect(discord.getByRole('checkbox', { name: 'SLA breached' })).toBeChecked();
    // a blank URL keeps the saved one
    await save.click();
    await expect(discord.getByTestId('discord-status')).toHaveText('Saved.');
    await expect(discord.getByTestId('discord-masked')).toHaveText(`http://127.0.0.1:${receiver.port}/…wxyz`);

    await discord.getByRole('button', { name: 'Send test message' }).click();
    await expect(discord.getByTestId('discord-test-result')).toContainText('Delivered: HTTP 200');
    const posted = receiver.received.filter((r) => r.path.includes(token));
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0].body).embeds[0].title).toContain('Test message');
    await expectAccessible(page);

    await discord.getByRole('button', { name: 'Remove URL' }).click();
    await expect(discord.getByTestId('discord-current')).toHaveText('No Discord webhook saved yet.');
    await expect(discord.getByRole('checkbox', { name: 'SLA breached' })).toBeChecked();
    await discord.getByRole('checkbox', { name: 'SLA breached' }).uncheck();
    await save.click();
    await expect(discord.getByTestId('discord-status')).toHaveText('Saved.');
  });

  test('a manager sees whether SMTP is configured and asks for a test email', async ({ page, request }) => {
    await signInAs(page, demo.manager);
    await openIntegrations(page);
    const email = page.getByTestId('email');
    // the test server sends through the suite's SMTP sink (SMTP_URL in playwright.config.ts), as the default SMTP_FROM
    const state = email.getByTestId('smtp-state');
    await expect(state).toContainText('SMTP configured');
    await expect(state).not.toContainText('not configured');
    await expect(state).toContainText('Emails come from Supportal <supportal@localhost>.');

    // both projects send one: only a message that arrives after this click counts
    const asked = Date.now();
    await email.getByRole('button', { name: 'Send me a test email' }).click();
    await expect(email.getByTestId('email-test-result')).toHaveText(`Sent to ${demo.manager}. Check that inbox.`);

    const subject = '[Supportal] This is a test message: email from Supportal reaches you.';
    const mail = await waitForMail(
      request,
      demo.manager,
      (m) => m.subject === subject && Date.parse(m.received_at) >= asked,
    );
    expect(mail.from).toBe('supportal@localhost');
    expect(mail.to).toEqual([demo.manager]);
    expect(mail.text).toContain('Hello Morgan Manager,');
    expect(mail.text).toContain('This is a test message: email from Supportal reaches you.');
    expect(mail.text).toContain('— Supportal');
    expect(linkIn(mail, '/notifications')).toBe('/notifications');
    expect(mail.html).toContain('email from Supportal reaches you.');
  });

  test('email choices on the notifications page persist across a reload', async ({ page }) => {
    await signInAs(page, demo.general);
    await page.goto('/notifications');
    await hydrated(page);
    const prefs = page.getByRole('region', { name: 'Email me about' });
    const features = prefs.getByRole('checkbox', { name: 'Feature requests' });
    await expect(features).toBeVisible();
    for (const name of ['Tickets', 'SLA alerts', 'Calls']) {
      await expect(prefs.getByRole('checkbox', { name, exact: true })).toBeVisible();
    }
    await expectAccessible(page);
    const was = await features.isChecked();

    await features.setChecked(!was);
    await prefs.getByRole('button', { name: 'Save email choices' }).click();
    await expect(prefs.getByRole('status')).toHaveText('Saved.');
    const stored = await (await page.request.get('/api/v1/me/email-preferences')).json();
    expect(stored.features).toBe(!was);

    await page.reload();
    await hydrated(page);
    await expect(features).toBeChecked({ checked: !was });

    // put it back
    await features.setChecked(was);
    await prefs.getByRole('button', { name: 'Save email choices' }).click();
    await expect(prefs.getByRole('status')).toHaveText('Saved.');
    await page.reload();
    await hydrated(page);
    await expect(features).toBeChecked({ checked: was });
  });

  for (const who of [demo.l1, demo.general]) {
    test(`${who.split('@')[0]} gets the Forbidden page at /admin/integrations`, async ({ page }) => {
      await signInAs(page, who);
      expect(await new Nav(page).linkNames()).not.toContain('Integrations');
      await page.goto('/admin/integrations');
      await hydrated(page);
      await expect(page.getByTestId('forbidden')).toBeVisible();
      await expect(page.getByTestId('webhooks')).toHaveCount(0);
      const api = await page.request.get('/api/v1/webhooks');
      expect(api.status()).toBe(403);
      await expectAccessible(page);
    });
  }
});
