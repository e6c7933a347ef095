import { APIRequestContext, expect, test } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, signInAs, uniqueEmail } from './support';

// The booking page's picker: a row of days, then that day's times. Keyboard only, and short pages.

const PASSWORD = 'picker-test-password';

async function newPlatinum(request: APIRequestContext): Promise<string> {
  const email = uniqueEmail('picker');
  const registered = await request.post('/api/v1/auth/register', { data: { email, password: PASSWORD, name: 'Kim Keyboard' } });
  expect(registered.status()).toBe(201);
  const token = await request.post('/api/v1/auth/tokens', { data: { email: demo.manager, password: DEMO_PASSWORD, label: 'e2e' } });
  const upgraded = await request.patch(`/api/v1/users/${(await registered.json()).id}`, {
    headers: { Authorization: `Bearer ${(await token.json()).token}` },
    data: { tier: 'platinum' },
  });
  expect(upgraded.status()).toBe(200);
  return email;
}

test('a customer picks a day and a time by keyboard only, on a page that stays short', async ({ page, request }) => {
  await signInAs(page, await newPlatinum(request), PASSWORD);
  await page.goto('/calls/book');
  await hydrated(page);
  const days = page.getByTestId('slot-day');
  await expect(days).toHaveCount(7);
  await expect(page.getByTestId('slot').first()).toBeVisible();

  // The whole page shows one day's times at a time, not the week's wall of buttons it was (this week: 124).
  // A busy day holds up to 35 times: five rows on a desktop, so the page stays under two screens.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize()?.width ?? 0;
  test.info().annotations.push({ type: 'page height', description: `${height} px at ${width} px wide` });
  console.log(`booking page height: ${height} px at ${width} px wide`);
  expect(height).toBeLessThan(width < 600 ? 1500 : 1400);
  await expectAccessible(page);

  // Keyboard: onto the selected day, the arrow moves to the next day with times, Tab into its times, Enter picks.
  const selected = page.locator('[data-testid="slot-day"][aria-pressed="true"]');
  await selected.focus();
  const first = await selected.getAttribute('data-day');
  await page.keyboard.press('ArrowRight');
  const second = page.locator('[data-testid="slot-day"][aria-pressed="true"]');
  await expect(second).not.toHaveAttribute('data-day', first ?? '');
  await expect(second).toBeFocused();
  const day = await second.getAttribute('data-day');
  await expect(page.getByTestId('day-times-heading')).toContainText('Free times on');
  await page.keyboard.press('Tab');
  const time = page.getByTestId('slot').first();
  await expect(time).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(time).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('chosen-slot')).toContainText('30 minutes');
  const start = await time.getAttribute('data-start');
  // The time is on the chosen day (Eastern).
  const eastern = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date(start ?? ''));
  expect(eastern).toBe(day);

  // The rest by keyboard too: the topic, then Enter on the button.
  await page.getByLabel('What would you like to talk about?').focus();
  await page.keyboard.type('Walk through our exports');
  await page.getByRole('button', { name: 'Book this call' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/calls\/\d+\?booked=1$/);
  await expect(page.getByTestId('call-when').locator('time')).toHaveAttribute('datetime', start ?? '');
});
