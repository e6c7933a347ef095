import { expect, test } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, signInAs } from './support';

test.describe('tickets and live SLA clocks', () => {
  test('a customer opens a P1, watches the countdown, and sees the first response flip to met live', async ({ page, request }) => {
    await signInAs(page, demo.platinum);
    await page.goto('/tickets/new');
    await hydrated(page);
    const preview = page.getByTestId('sla-preview');
    await page.getByLabel(/^P1/).check();
    await expect(preview).toContainText('First reply expected by');
    await expect(preview).toContainText('Counted around the clock');
    await expectAccessible(page);

    const subject = `Bot down ${Date.now()}`;
    await page.getByLabel('Subject').fill(subject);
    await page.getByLabel('Description').fill('Nothing answers since this morning.');
    await page.getByRole('button', { name: 'Open ticket' }).click();

    await expect(page.getByTestId('ticket-subject')).toHaveText(subject);
    const first = page.getByTestId('clock-first-response');
    await expect(first).toContainText('On track');
    const countdown = first.locator('.countdown');
    const before = await countdown.textContent();
    await expect(countdown).not.toHaveText(before ?? '', { timeout: 5000 });
    expect(before).toMatch(/due in (59 min|1 h)/);
    await expectAccessible(page);
    const ticketId = page.url().split('/').pop();

    // an agent answers through the API; the customer's page changes without a reload
    await page.evaluate(() => ((window as any).__sameDocument = 'yes'));
    const token = await request.post('/api/v1/auth/tokens', {
      data: { email: demo.l1, password: DEMO_PASSWORD, label: 'e2e' },
    });
    expect(token.status()).toBe(201);
    const bearer = { Authorization: `Bearer ${(await token.json()).token}` };
    const internal = await request.post(`/api/v1/tickets/${ticketId}/messages`, {
      headers: bearer,
      data: { body: 'Internal: customer on old build', internal: true },
    });
    expect(internal.status()).toBe(201);
    const reply = await request.post(`/api/v1/tickets/${ticketId}/messages`, {
      headers: bearer,
      data: { body: 'We are on it: restarting the workers now.' },
    });
    expect(reply.status()).toBe(201);
    await expect(first).toContainText('Met');
    await expect(page.getByTestId('conversation')).toContainText('restarting the workers');
    await expect(page.getByTestId('conversation')).not.toContainText('old build');
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe('yes');

    // resolve and reopen
    await page.getByRole('button', { name: 'Mark resolved' }).click();
    await expect(page.getByTestId('ticket-status')).toHaveText('Resolved');
    await page.getByRole('button', { name: 'Reopen' }).click();
    await expect(page.getByTestId('ticket-status')).toHaveText('Open');

    await page.goto('/tickets');
    await expect(page.getByTestId('ticket-list')).toContainText(subject);
  });

  test('the form explains what is missing', async ({ page }) => {
    await signInAs(page, demo.general);
    await page.goto('/tickets/new');
    await hydrated(page);
    await page.getByRole('button', { name: 'Open ticket' }).click();
    await expect(page.locator('#subject-error')).toContainText('Enter a subject');
    await expect(page.locator('#body-error')).toContainText('Enter a description');
    // general tier, P3: support hours
    await expect(page.getByTestId('sla-preview')).toContainText('support hours');
  });

  test('another customer gets not found', async ({ page, request }) => {
    const token = await request.post('/api/v1/auth/tokens', {
      data: { email: demo.platinum, password: DEMO_PASSWORD, label: 'e2e' },
    });
    const bearer = { Authorization: `Bearer ${(await token.json()).token}` };
    const created = await request.post('/api/v1/tickets', {
      headers: bearer,
      data: { subject: 'Private matter', body: 'Only for us', priority: 'P4' },
    });
    const id = (await created.json()).id;
    await signInAs(page, demo.general);
    const response = await page.goto(`/tickets/${id}`);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await expect(page.getByText('Only for us')).toHaveCount(0);
    expect(response?.status()).toBeLessThan(500);
  });
});
