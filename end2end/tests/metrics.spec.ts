import { APIRequestContext, expect, test } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, Nav, signInAs } from './support';

async function bearer(request: APIRequestContext, email: string): Promise<Record<string, string>> {
  const r = await request.post('/api/v1/auth/tokens', { data: { email, password: DEMO_PASSWORD, label: 'e2e' } });
  expect(r.status()).toBe(201);
  return { Authorization: `Bearer ${(await r.json()).token}` };
}

test.describe('metrics', () => {
  test('managers see the dashboard: cards, chart, agents, calls and the export', async ({ page }) => {
    await signInAs(page, demo.manager);
    const nav = new Nav(page);
    expect(await nav.linkNames()).toContain('Metrics');
    await page.goto('/admin/metrics');
    await hydrated(page);
    await expect(page.getByRole('heading', { level: 1, name: 'Metrics' })).toBeVisible();
    await expect(page.getByTestId('open-by-priority')).toBeVisible();
    await expect(page.getByTestId('compliance-first-response')).toContainText('7 days');
    await expect(page.getByTestId('compliance-first-response')).toContainText('Target 95 %');
    await expect(page.getByTestId('satisfaction')).toContainText('When the SLA was met');
    await expect(page.getByRole('img', { name: /Bar chart of tickets per day/ })).toBeVisible();
    await expect(page.getByTestId('agents-table')).toContainText('Lee Frontline');
    await expect(page.getByLabel('From', { exact: true })).toHaveAttribute('type', 'date');
    await expect(page.getByLabel('To', { exact: true })).toHaveAttribute('type', 'date');
    // Nothing overflows the page sideways on a phone: only the agents' table scrolls, inside its box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(page);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^tickets-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
  });

  test('agents and customers are refused', async ({ page }) => {
    await signInAs(page, demo.l1);
    expect(await new Nav(page).linkNames()).not.toContain('Metrics');
    await page.goto('/admin/metrics');
    await expect(page.getByTestId('forbidden')).toBeVisible();
  });

  test('a customer answers the survey of a resolved ticket once', async ({ page, request }) => {
    const customer = await bearer(request, demo.general);
    const agent = await bearer(request, demo.l1);
    const created = await request.post('/api/v1/tickets', {
      headers: customer,
      data: { subject: 'Survey e2e', body: 'Please resolve me.', priority: 'P4' },
    });
    const id = (await created.json()).id;
    const resolved = await request.patch(`/api/v1/tickets/${id}`, { headers: agent, data: { status: 'resolved' } });
    expect(resolved.status()).toBe(200);

    await signInAs(page, demo.general);
    await page.goto(`/tickets/${id}/survey?rating=bad`);
    await hydrated(page);
    await expect(page.getByRole('group', { name: 'How did we do?' })).toBeVisible();
    await expect(page.getByRole('radio', { name: 'Bad' })).toBeChecked();
    await expectAccessible(page);
    await page.locator('label', { hasText: 'Good' }).click();
    await expect(page.getByRole('radio', { name: 'Good' })).toBeChecked();
    await page.getByLabel('Anything you would like to add? (optional)').fill('Quick and kind.');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByTestId('survey-thanks')).toContainText(/you rated this Good/i);

    const again = await request.post(`/api/v1/tickets/${id}/satisfaction`, { headers: customer, data: { rating: 'bad' } });
    expect(again.status()).toBe(409);
    const staff = await request.get(`/api/v1/tickets/${id}/satisfaction`, { headers: agent });
    expect((await staff.json()).answers[0].comment).toBe('Quick and kind.');
  });
});
