import { APIRequestContext, Browser, expect, Page, test } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { demo, DEMO_PASSWORD, hydrated, signInAs } from './support';

/** No serious or critical axe-core violation in the page content (the header has its own specs). */
async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).include('main').analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

async function bearer(request: APIRequestContext, email: string): Promise<Record<string, string>> {
  const token = await request.post('/api/v1/auth/tokens', { data: { email, password: DEMO_PASSWORD, label: 'e2e' } });
  expect(token.status()).toBe(201);
  return { Authorization: `Bearer ${(await token.json()).token}` };
}

async function postFeature(request: APIRequestContext, email: string, title: string): Promise<number> {
  const created = await request.post('/api/v1/features', {
    headers: await bearer(request, email),
    data: { title, body: 'Created by the browser tests.' },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).id;
}

async function voteAs(request: APIRequestContext, email: string, id: number): Promise<void> {
  const r = await request.put(`/api/v1/features/${id}/vote`, { headers: await bearer(request, email) });
  expect(r.status()).toBe(200);
}

/** A second signed-in browser (same size as `like`), as another person would have. */
async function secondBrowser(browser: Browser, like: Page, email: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: new URL(like.url()).origin,
    viewport: like.viewportSize() ?? undefined,
  });
  const page = await context.newPage();
  await signInAs(page, email);
  return page;
}

/** Marks every notification read, so the bell starts from none. */
async function clearNotifications(page: Page): Promise<void> {
  await page.goto('/notifications');
  await hydrated(page);
  await expect(page.getByTestId('notification-list').or(page.getByTestId('notifications-empty'))).toBeVisible();
  const markAll = page.getByTestId('mark-all-read');
  if (await markAll.isVisible()) {
    await markAll.click();
  }
  await expect(page.getByTestId('bell-count')).toBeHidden();
}

test.describe('community feature voting', () => {
  test('a vote shows at once and reaches another browser without a reload', async ({ page, browser, request }) => {
    const id = await postFeature(request, demo.l2, `Live vote ${Date.now()}`);
    await signInAs(page, demo.general);
    await page.goto(`/features/${id}`);
    await hydrated(page);
    const other = await secondBrowser(browser, page, demo.platinum);
    await other.goto(`/features/${id}`);
    await hydrated(other);
    await other.evaluate(() => ((window as any).__sameDocument = 'yes'));
    await expect(other.getByTestId('vote-count')).toHaveText('0');

    const button = page.getByTestId('vote-button');
    await expect(button).toHaveAttribute('aria-pressed', 'false');
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('vote-count')).toHaveText('1');
    await expect(other.getByTestId('vote-count')).toHaveText('1');
    expect(await other.evaluate(() => (window as any).__sameDocument)).toBe('yes');

    // the other person votes too; the first sees it, then takes their vote back
    await other.getByTestId('vote-button').click();
    await expect(page.getByTestId('vote-count')).toHaveText('2');
    await expect(page.getByTestId('platinum-votes')).toHaveText('1 Platinum vote');
    await button.click();
    await expect(other.getByTestId('vote-count')).toHaveText('1');
    await expectAccessible(page);

    // the board shows the same count
    await other.goto('/features');
    await hydrated(other);
    const card = other.locator(`[data-feature-id="${id}"]`);
    await expect(card.getByTestId('vote-count')).toHaveText('1');
    await expectAccessible(other);
    await other.context().close();
  });

  test('an agent changes the status and the voter is told', async ({ page, browser, request }) => {
    const title = `Status change ${Date.now()}`;
    const id = await postFeature(request, demo.l1, title);
    await voteAs(request, demo.general, id);
    await signInAs(page, demo.general);
    await clearNotifications(page);

    const agent = await secondBrowser(browser, page, demo.l1);
    await agent.goto(`/features/${id}`);
    await hydrated(agent);
    await agent.getByLabel('Status', { exact: true }).selectOption('planned');
    await agent.getByLabel('Public note').fill('Building it next month.');
    await agent.getByRole('button', { name: 'Update status' }).click();
    await expect(agent.getByTestId('feature-status')).toHaveText('Planned');
    await expect(agent.getByTestId('feature-history')).toContainText('Building it next month.');
    await expectAccessible(agent);
    await agent.context().close();

    // the voter's bell counts up without a reload, and the notification leads to the request
    await expect(page.getByTestId('bell-count')).toHaveText('1');
    await page.getByTestId('bell').click();
    const notice = page.getByTestId('notification').filter({ hasText: title });
    await expect(notice).toContainText('is now planned: Building it next month.');
    await notice.getByRole('link').click();
    await expect(page.getByTestId('feature-title')).toHaveText(title);
    await expect(page.getByTestId('feature-status')).toHaveText('Planned');
  });

  test('a manager merges a duplicate: votes combine once and the duplicate redirects', async ({ page, request }) => {
    const stamp = Date.now();
    const kept = await postFeature(request, demo.manager, `Merge keeper ${stamp}`);
    const dup = await postFeature(request, demo.manager, `Merge duplicate ${stamp}`);
    await voteAs(request, demo.general, kept);
    await voteAs(request, demo.general, dup);
    await voteAs(request, demo.platinum, dup);

    await signInAs(page, demo.manager);
    await page.goto(`/features/${dup}`);
    await hydrated(page);
    await page.getByText('Merge this duplicate into another request').click();
    await page.getByTestId('merge-into').selectOption(String(kept));
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/features/${kept}\\?merged_from=${dup}$`));
    await expect(page.getByTestId('merged-banner')).toContainText(`#${dup}`);
    await expect(page.getByTestId('vote-count')).toHaveText('2');
    await expect(page.getByTestId('feature-history')).toContainText(`merged #${dup} into this request`);
    await expectAccessible(page);

    // the duplicate's address leads to the request kept
    await page.goto(`/features/${dup}`);
    await expect(page).toHaveURL(new RegExp(`/features/${kept}`));
    await expect(page.getByTestId('feature-title')).toHaveText(`Merge keeper ${stamp}`);
  });

  test('posting suggests similar requests; board and roadmap are accessible', async ({ page }) => {
    await signInAs(page, demo.general);
    await page.goto('/features/new');
    await hydrated(page);
    await page.getByRole('button', { name: 'Post request' }).click();
    await expect(page.locator('#title-error')).toContainText('Enter a title');
    await page.getByLabel('Title').fill('Dark mode please');
    await expect(page.getByTestId('similar-features')).toContainText('Dark mode for the dashboard');
    await expectAccessible(page);
    const title = `<b>Calendar sync</b> ${Date.now()}`;
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Description').fill('Show our calls in Google Calendar.');
    await page.getByRole('button', { name: 'Post request' }).click();
    // HTML stays text
    await expect(page.getByTestId('feature-title')).toHaveText(title);
    await expect(page.getByTestId('vote-count')).toHaveText('1');
    await expect(page.getByTestId('vote-button')).toHaveAttribute('aria-pressed', 'true');

    await page.goto('/features');
    await hydrated(page);
    await expect(page.getByTestId('feature-list')).toContainText('Dark mode for the dashboard');
    await page.getByLabel('Status').selectOption('shipped');
    await expect(page.getByTestId('feature-list')).toContainText('Two-factor sign-in');
    await expect(page.getByTestId('feature-list')).not.toContainText('Dark mode for the dashboard');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Search').fill('backoff');
    await expect(page.getByTestId('feature-card')).toHaveCount(1);
    await expect(page.getByTestId('feature-list')).toContainText('Webhook retries with backoff');
    await expectAccessible(page);

    await page.goto('/roadmap');
    await hydrated(page);
    await expect(page.getByTestId('roadmap-planned')).toContainText('Dark mode for the dashboard');
    await expect(page.getByTestId('roadmap-in-progress')).toContainText('Scheduled CSV export of tickets');
    await expect(page.getByTestId('roadmap-shipped')).toContainText('Two-factor sign-in');
    await expectAccessible(page);
  });

  test('an agent turns a P4 ticket into a feature request from the ticket page', async ({ page, request }) => {
    const created = await request.post('/api/v1/tickets', {
      headers: await bearer(request, demo.platinum),
      data: { subject: `Bulk close tickets ${Date.now()}`, body: 'Select many and close them. Our account is ACME-4471.', priority: 'P4', category: 'feature_request' },
    });
    expect(created.status()).toBe(201);
    const ticket = (await created.json()).id;
    await signInAs(page, demo.l1);
    await page.goto(`/tickets/${ticket}`);
    await hydrated(page);
    await page.getByTestId('make-feature').click();
    // the ticket is private: the agent sees its text as a draft and rewrites it before anything is public
    const title = page.getByLabel('Public title');
    const body = page.getByLabel('Public description');
    await expect(title).toHaveValue(/^Bulk close tickets/);
    await expect(body).toHaveValue('Select many and close them. Our account is ACME-4471.');
    await expectAccessible(page);
    await body.fill('');
    await page.getByRole('button', { name: 'Post the public request' }).click();
    await expect(page.locator('#public-body-error')).not.toBeEmpty();
    await expect(body).toHaveAttribute('aria-invalid', 'true');
    await title.fill('Close many tickets at once');
    await body.fill('Select several tickets in the list and close them together.');
    await page.getByRole('button', { name: 'Post the public request' }).click();
    const link = page.getByTestId('ticket-feature');
    await expect(link).toContainText('Feature request: Close many tickets at once');
    await expect(link).toContainText('1 vote');
    await link.getByRole('link').click();
    await expect(page.getByTestId('feature-title')).toContainText('Close many tickets at once');
    await expect(page.getByTestId('feature-history')).toContainText('posted this request from a support conversation');
    await expect(page.locator('main')).not.toContainText('ACME-4471');
    // the agent sees where it came from; the public history does not say
    await expect(page.getByRole('link', { name: `From ticket #${ticket}` })).toBeVisible();
    await expect(page.getByTestId('feature-history')).not.toContainText(`#${ticket}`);
  });
});

test.describe('the public board', () => {
  test('a visitor reads requests and the roadmap, and is asked to sign in to take part', async ({ page }) => {
    await page.goto('/features');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Feature requests' })).toBeVisible();
    await expect(page.getByTestId('feature-card').first()).toBeVisible();
    await expect(page.getByTestId('vote-button')).toHaveCount(0);
    await expectAccessible(page);
    await expect(page.getByTestId('signin-to-suggest')).toBeVisible();

    await page.getByTestId('feature-card').first().locator('a.feature-title').click();
    await expect(page.getByTestId('feature-title')).toBeVisible();
    const title = (await page.getByTestId('feature-title').textContent())!.trim();
    await expect(page).toHaveTitle(new RegExp(title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await expect(page.getByTestId('signin-to-vote')).toBeVisible();
    await expect(page.getByLabel('Add a comment')).toHaveCount(0);
    await expectAccessible(page);

    // signing in from there comes back to the request, ready to vote
    const here = new URL(page.url()).pathname;
    await page.getByTestId('signin-to-vote').getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(demo.general);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(new RegExp(`${here}$`));
    await expect(page.getByTestId('signin-to-vote')).toHaveCount(0);
    await expect(page.getByLabel('Add a comment')).toBeVisible();

    await page.context().clearCookies();
    await page.goto('/roadmap');
    await hydrated(page);
    await expect(page.getByTestId('roadmap-shipped')).toContainText('Two-factor sign-in');
    await expectAccessible(page);
  });
});
