import { test, expect, APIRequestContext } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, uniqueEmail, SignInPage } from './support';
import { discordHeaders } from './discord-keys';

// Discord as a way in: a Discord user runs /link (sent to the real interactions endpoint, signed like Discord
// signs it), opens the one-time link in the browser, signs in and confirms; after that the commands know who
// they are. Phone and desktop, axe-checked.

let counter = 0;
/** A Discord-like id (a decimal number of up to 20 digits), different in every call. */
function snowflake(): string {
  counter += 1;
  return `${Date.now()}${String(counter).padStart(3, '0')}${Math.floor(Math.random() * 1000)}`.slice(0, 19);
}

async function interact(
  request: APIRequestContext,
  discordId: string,
  interaction: Record<string, unknown>,
): Promise<any> {
  const body = JSON.stringify({
    id: snowflake(),
    channel_id: '700000000000000001',
    channel: { id: '700000000000000001', name: 'bug-reports' },
    guild_id: '600000000000000001',
    member: { user: { id: discordId, username: `tester${discordId.slice(-4)}` }, permissions: '0' },
    ...interaction,
  });
  const response = await request.post('/api/v1/discord/interactions', { headers: discordHeaders(body), data: body });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

const command = (name: string) => ({ type: 2, data: { name, type: 1 } });

test('the interactions endpoint answers only what Discord signed', async ({ request }) => {
  const ping = JSON.stringify({ type: 1, id: '1' });
  const ok = await request.post('/api/v1/discord/interactions', { headers: discordHeaders(ping), data: ping });
  expect(await ok.json()).toEqual({ type: 1 });
  const forged = await request.post('/api/v1/discord/interactions', {
    headers: { ...discordHeaders(ping), 'x-signature-timestamp': '1' },
    data: ping,
  });
  expect(forged.status()).toBe(401);
});

test('a Discord user links their account with the one-time link, then opens a ticket from Discord', async ({ page }) => {
  const email = uniqueEmail('discord');
  const register = await page.request.post('/api/v1/auth/register', {
    data: { email, password: 'a long passphrase', name: 'Dana Discord' },
  });
  expect(register.status()).toBe(201);
  // The registration signed this browser in; start signed out, as someone coming from Discord may be.
  await page.context().clearCookies();
  const discordId = snowflake();

  // Not linked yet: a friendly explanation, with /link and the sign-up page.
  const unlinked = await interact(page.request, discordId, command('status'));
  expect(unlinked.data.flags).toBe(64);
  expect(unlinked.data.content).toContain('/link');
  expect(unlinked.data.content).toContain('/register');

  const reply = await interact(page.request, discordId, command('link'));
  const url = new URL(reply.data.content.match(/https?:\/\/\S+\/discord\/link\?token=[0-9a-f]+/)[0]);
  const linkPath = `${url.pathname}${url.search}`;

  // Signed out: the page asks to sign in, and signing in comes back to the link.
  await page.goto(linkPath);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Link your Discord account' })).toBeVisible();
  await expect(page.getByTestId('discord-link-signed-out')).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('link', { name: 'Sign in to link' }).click();
  await hydrated(page);
  await new SignInPage(page).signIn(email, 'a long passphrase');
  await expect(page).toHaveURL(/\/discord\/link\?token=/);
  await expect(page.getByTestId('discord-name')).toHaveText(`tester${discordId.slice(-4)}`);
  await expectAccessible(page);

  await page.getByRole('button', { name: 'Link this Discord account' }).click();
  await expect(page.getByTestId('discord-linked')).toContainText('is linked to your account');
  await expectAccessible(page);

  // The link works once.
  await page.goto(linkPath);
  await expect(page.getByTestId('discord-link-expired')).toContainText('expired or was already used');

  // Discord now knows who this is: /ticket's form, sent back, opens a ticket shown as "via Discord".
  const form = await interact(page.request, discordId, command('ticket'));
  expect(form.type).toBe(9);
  const field = (id: string, value: string) => ({ type: 1, components: [{ type: 4, custom_id: id, value }] });
  const opened = await interact(page.request, discordId, {
    type: 5,
    data: {
      custom_id: 'ticket',
      components: [field('subject', 'Export stops at 50%'), field('description', 'Every time.'), field('priority', 'P3')],
    },
  });
  const id = opened.data.content.match(/#(\d+)/)[1];
  await page.goto(`/tickets/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('ticket-subject')).toHaveText('Export stops at 50%');
  await expect(page.getByTestId('ticket-via')).toContainText('via Discord #bug-reports');
  await expectAccessible(page);
});

test('managers see what to paste into Discord and the channel mapping', async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.goto('/admin/discord');
  await signIn.signIn(demo.manager, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/admin\/discord/);
  await hydrated(page);
  await expect(page.getByTestId('discord-interactions-url')).toContainText('/api/v1/discord/interactions');
  await expect(page.getByTestId('discord-public-key')).toHaveText('set');
  await expect(page.getByRole('cell', { name: '#bug-reports' })).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel('Channel name').fill('integrations');
  await page.getByLabel('Category').selectOption('integration');
  await page.getByRole('button', { name: 'Save mapping' }).click();
  await expect(page.getByRole('cell', { name: '#integrations' })).toBeVisible();
});
