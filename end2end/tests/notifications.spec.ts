import { expect, test } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, RegisterPage, signInAs, uniqueEmail } from './support';

test.describe('notifications', () => {
  test('the bell counts an agent reply live, the page lists it, and reading clears the count', async ({ page, request }) => {
    const login = async (email: string) => {
      const r = await request.post('/api/v1/auth/tokens', { data: { email, password: DEMO_PASSWORD, label: 'e2e' } });
      return { Authorization: `Bearer ${(await r.json()).token}` };
    };
    const customer = await login(demo.general);
    const agent = await login(demo.l1);
    // start from nothing unread
    const cleared = await request.post('/api/v1/notifications/read', { headers: customer, data: {} });
    expect(cleared.status()).toBe(200);

    await signInAs(page, demo.general);
    await page.goto('/notifications');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Notifications' })).toBeVisible();
    await expect(page.getByTestId('mark-all-read')).toHaveCount(0);
    const bell = page.getByTestId('bell');
    await expect(bell).toHaveAccessibleName('Notifications, none unread');
    await expect(page.getByTestId('bell-count')).toBeHidden();

    // the customer opens a ticket through the API; an agent answers it
    const subject = `Invoices missing ${Date.now()}`;
    const created = await request.post('/api/v1/tickets', {
      headers: customer,
      data: { subject, body: 'November invoice is not in the list.', priority: 'P3' },
    });
    const id = (await created.json()).id;
    await page.evaluate(() => ((window as any).__sameDocument = 'yes'));
    const reply = await request.post(`/api/v1/tickets/${id}/messages`, {
      headers: agent,
      data: { body: 'Found it, resending now.' },
    });
    expect(reply.status()).toBe(201);

    // live: the badge and the list change without a reload
    await expect(page.getByTestId('bell-count')).toHaveText('1');
    await expect(bell).toHaveAccessibleName('Notifications, 1 unread');
    const item = page.getByTestId('notification').filter({ hasText: subject });
    await expect(item).toContainText('replied');
    await expect(item).toHaveClass(/unread/);
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe('yes');
    await expectAccessible(page);

    // opening it marks it read and leads to the ticket
    await item.getByRole('link').click();
    await expect(page).toHaveURL(new RegExp(`/tickets/${id}$`));
    await expect(page.getByTestId('bell-count')).toBeHidden();
    await page.goto('/notifications');
    await expect(page.getByTestId('notification').filter({ hasText: subject })).not.toHaveClass(/unread/);
  });

  test('a new customer sees an explained empty list', async ({ page }) => {
    const register = new RegisterPage(page);
    await register.goto();
    await register.register('Nora New', uniqueEmail('nora'), 'a long passphrase');
    await expect(page.getByTestId('welcome')).toBeVisible();
    await page.goto('/notifications');
    await hydrated(page);
    await expect(page.getByTestId('notifications-empty')).toContainText('Nothing yet');
    await expect(page.getByTestId('mark-all-read')).toHaveCount(0);
    await expect(page.getByTestId('bell')).toHaveAccessibleName('Notifications, none unread');
    await expectAccessible(page);
  });

});

test.describe('support hours in the viewer\'s zone', () => {
  test.use({ timezoneId: 'Europe/Berlin' });

  test('the footer names the next change in Eastern time and in the viewer\'s own', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    const hours = page.getByTestId('support-hours');
    await expect(hours).toContainText(/Support (open now|closed) — (closes|opens) .*ET/);
    await expect(hours.getByTestId('your-time')).toContainText(/your time/);
    await expect(hours.getByTestId('your-time')).toContainText(/CET|CEST|GMT\+1|GMT\+2/);
  });
});
