import { Browser, BrowserContext, expect, Page, test } from '@playwright/test';
import { demo, expectAccessible, hydrated, RegisterPage, signInAs, uniqueEmail } from './support';

/** A signed-in page in its own browser context (own cookies), with the project's viewport. */
async function person(browser: Browser, use: any, email?: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    baseURL: use.baseURL,
    viewport: use.viewport,
    isMobile: use.isMobile,
    hasTouch: use.hasTouch,
  });
  const page = await ctx.newPage();
  if (email) {
    await signInAs(page, email);
  } else {
    const register = new RegisterPage(page);
    await register.goto();
    await register.register('Casey Customer', uniqueEmail('casey'), 'a long passphrase');
    await expect(page.getByTestId('welcome')).toBeVisible();
  }
  return { ctx, page };
}

/** Marks the document, so a later check proves no full page load happened in between. */
async function mark(page: Page): Promise<void> {
  await page.evaluate(() => ((window as any).__sameDocument = 'yes'));
}
async function sameDocument(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe('yes');
}

test.describe('agents dashboard', () => {
  test('customer, agent A and agent B at once: queue, claim, reply, note, escalation, presence', async ({ browser }, info) => {
    test.setTimeout(120_000);
    const opts = info.project.use;
    const customer = await person(browser, opts);
    const a = await person(browser, opts, demo.l1); // Lee Frontline, L1
    const b = await person(browser, opts, demo.l2); // Sam Senior, L2
    try {
      for (const agent of [a, b]) {
        await agent.page.goto('/queue?view=unassigned');
        await hydrated(agent.page);
        await expect(agent.page.getByTestId('queue')).toBeVisible();
        await mark(agent.page);
      }
      const before = Number(await a.page.getByTestId('count-unassigned').textContent());

      // The customer opens a ticket; it appears in A's queue without a reload, and the count goes up.
      const subject = `Widget export broken ${Date.now()}`;
      await customer.page.goto('/tickets/new');
      await hydrated(customer.page);
      await customer.page.getByLabel('Subject').fill(subject);
      await customer.page.locator('#category').selectOption('bug');
      await customer.page.locator('label[for="priority-P2"]').click();
      await customer.page.getByLabel('Description').fill('The CSV export button does nothing.');
      await customer.page.getByRole('button', { name: 'Open ticket' }).click();
      await expect(customer.page).toHaveURL(/\/tickets\/\d+$/);
      const id = Number(customer.page.url().split('/').pop());
      await hydrated(customer.page);
      await mark(customer.page);

      const rowA = a.page.getByTestId('queue-row').filter({ hasText: subject });
      await expect(rowA).toBeVisible();
      await expect(rowA).toHaveClass(/flash/);
      await expect(a.page.getByTestId('count-unassigned')).toHaveText(String(before + 1));
      await expect(rowA.getByTestId('row-countdown')).toContainText(/Reply in/);
      await sameDocument(a.page);

      // A opens it and claims it; B sees the claim in the queue, live.
      await rowA.getByRole('link', { name: subject }).click();
      await expect(a.page).toHaveURL(new RegExp(`/tickets/${id}$`));
      await expect(a.page.getByTestId('claim')).toBeVisible();
      await a.page.getByTestId('claim').click();
      await expect(a.page.getByTestId('ticket-assignee')).toHaveText('Lee Frontline');
      await expect(b.page.getByTestId('queue-row').filter({ hasText: subject })).toHaveCount(0);
      await b.page.goto('/queue?view=all');
      await hydrated(b.page);
      await mark(b.page);
      const rowB = b.page.getByTestId('queue-row').filter({ hasText: subject });
      await expect(rowB.getByTestId('assignee')).toHaveText('Lee Frontline');

      // B opens the same ticket: A sees B there, then B typing.
      await rowB.getByRole('link', { name: subject }).click();
      await expect(b.page).toHaveURL(new RegExp(`/tickets/${id}$`));
      await hydrated(b.page);
      await expect(a.page.getByTestId('presence')).toContainText('Sam Senior is viewing this ticket');
      await b.page.locator('#reply-body').fill('Draft…');
      await expect(a.page.getByTestId('presence')).toContainText('Sam Senior is replying…');

      // A replies (keyboard: r), the customer sees it live.
      await a.page.getByTestId('ticket-subject').click();
      await a.page.keyboard.press('r');
      await expect(a.page.locator('#reply-body')).toBeFocused();
      await a.page.keyboard.type('Thanks, we can reproduce it.');
      await a.page.getByRole('button', { name: 'Send' }).click();
      await expect(customer.page.getByTestId('conversation')).toContainText('Thanks, we can reproduce it.');
      await sameDocument(customer.page);

      // A's internal note (keyboard: n) is marked as such, and absent from the customer's page and API.
      await a.page.locator('#reply-body').press('Escape');
      await a.page.keyboard.press('n');
      await expect(a.page.locator('#reply-body')).toBeFocused();
      await expect(a.page.getByTestId('compose')).toHaveClass(/internal/);
      await a.page.keyboard.type('Customer is on the legacy export plan.');
      await a.page.getByRole('button', { name: 'Send' }).click();
      await expect(a.page.getByTestId('internal-note')).toContainText('legacy export plan');
      await expect(b.page.getByTestId('internal-note')).toContainText('legacy export plan');
      await customer.page.waitForTimeout(1500);
      await expect(customer.page.getByTestId('conversation')).not.toContainText('legacy export plan');
      const api = await customer.page.request.get(`/api/v1/tickets/${id}/messages`);
      expect(api.status()).toBe(200);
      expect(await api.text()).not.toContain('legacy export plan');

      // Escalation L1 → L2 with a reason: in the timeline, for A and B.
      await a.page.locator('#reply-body').press('Escape');
      await a.page.keyboard.press('e');
      await expect(a.page.locator('#escalate-reason')).toBeFocused();
      await a.page.getByRole('button', { name: 'Escalate' }).click();
      await expect(a.page.locator('#escalate-reason-error')).toContainText('reason');
      await a.page.locator('#escalate-reason').fill('Export service bug, needs an engineer');
      await a.page.getByRole('button', { name: 'Escalate' }).click();
      await expect(a.page.getByTestId('ticket-level')).toHaveText('L2');
      for (const agent of [a, b]) {
        const timeline = agent.page.getByTestId('timeline');
        await expect(timeline).toContainText('Escalated L1 → L2');
        await expect(timeline).toContainText('Export service bug, needs an engineer');
      }
      await expectAccessible(a.page);
      await sameDocument(b.page);

      // B resolves it; the customer is asked once, live, and both agents see the answer on the ticket.
      await b.page.locator('#ws-status').selectOption('resolved');
      await b.page.getByRole('button', { name: 'Save changes' }).click();
      await expect(b.page.getByTestId('ticket-status')).toHaveText('Resolved');
      const survey = customer.page.getByTestId('survey-panel');
      await expect(survey).toContainText('How did we do?');
      await survey.getByText('Good').click();
      await survey.getByLabel(/Anything you would like to add/).fill('Quick and clear, thanks!');
      await survey.getByRole('button', { name: 'Send' }).click();
      await expect(customer.page.getByTestId('survey-thanks')).toContainText(/you rated this Good/i);
      await expect(customer.page.getByText('How did we do?')).toHaveCount(0);
      await expect(a.page.getByTestId('survey-answer')).toHaveText("Customer rated: Good — 'Quick and clear, thanks!'");
      await expectAccessible(customer.page);
      await sameDocument(customer.page);
    } finally {
      await Promise.all([customer.ctx.close(), a.ctx.close(), b.ctx.close()]);
    }
  });

  test('the queue by keyboard: j/k move, x selects, Enter opens, ? lists the shortcuts', async ({ page }) => {
    await signInAs(page, demo.l1);
    await page.goto('/queue?view=all');
    await hydrated(page);
    const rows = page.getByTestId('queue-row');
    expect(await rows.count()).toBeGreaterThan(2);
    await expectAccessible(page);
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-help')).toBeVisible();
    await expect(page.getByTestId('shortcut-help')).toContainText('Assign the ticket to me');
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-help')).toBeHidden();
    await page.keyboard.press('j');
    await expect(rows.nth(1)).toHaveClass(/current/);
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await expect(rows.nth(1)).toHaveClass(/current/);
    await page.keyboard.press('x');
    await expect(page.getByTestId('bulk-bar')).toBeVisible();
    await expect(page.getByTestId('bulk-bar')).toContainText('1 selected');
    const ticket = await rows.nth(1).getAttribute('data-ticket');
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(new RegExp(`/tickets/${ticket}$`));
  });

  test('views and filters: counts, an empty view explained, customers refused', async ({ page }) => {
    await signInAs(page, demo.l2);
    await page.goto('/queue');
    await hydrated(page);
    await page.getByTestId('view-at_risk').click();
    await expect(page).toHaveURL(/view=at_risk/);
    const atRisk = Number(await page.getByTestId('count-at_risk').textContent());
    expect(atRisk).toBeGreaterThan(0);
    await expect(page.getByTestId('queue-row')).toHaveCount(atRisk);
    await page.getByLabel('Search').fill('no such ticket anywhere');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.getByText('Nothing here')).toBeVisible();
    await expectAccessible(page);

    await page.context().clearCookies();
    await signInAs(page, demo.platinum);
    await page.goto('/queue');
    await expect(page.getByTestId('forbidden')).toBeVisible();
  });
});
