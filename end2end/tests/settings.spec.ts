import { expect, Page, test } from '@playwright/test';
import { demo, expectAccessible, hydrated, signInAs } from './support';

async function openSettings(page: Page): Promise<void> {
  await page.goto('/admin/sla');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'SLA policies, hours and holidays' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Policies' }).locator('tbody tr')).toHaveCount(8);
  await expect(page.getByTestId('weekly-support').locator('tbody tr')).toHaveCount(7);
}

test.describe('SLA settings', () => {
  test('a manager changes a target, saves, sees it after a reload, and restores it', async ({ page }, testInfo) => {
    await signInAs(page, demo.manager);
    await openSettings(page);
    await expectAccessible(page);
    if (testInfo.project.name === 'phone') {
      // the table scrolls inside its own box; the page itself never scrolls sideways
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    }

    const policies = page.getByRole('region', { name: 'Policies' });
    const save = policies.getByRole('button', { name: 'Save policies' });
    const status = policies.getByRole('status');
    const resolution = () => page.getByLabel('general P4 resolution minutes', { exact: true });
    const original = await resolution().inputValue();
    expect(Number(original)).toBeGreaterThan(1);
    const changed = String(Number(original) - 1);

    // a resolution target shorter than the first response is refused beside the field
    await resolution().fill('1');
    await save.click();
    await expect(resolution()).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#sla-general-P4-resolution_minutes-error')).toContainText('must not be shorter');
    await expect(policies.getByText('Saved.')).toHaveCount(0);
    await expectAccessible(page);

    await resolution().fill(changed);
    await save.click();
    await expect(status).toHaveText('Saved.');
    await expect(resolution()).toHaveAttribute('aria-invalid', 'false');

    await page.reload();
    await openSettings(page);
    await expect(resolution()).toHaveValue(changed);

    // put it back so other tests see the demo defaults
    await resolution().fill(original);
    await save.click();
    await expect(status).toHaveText('Saved.');
    await page.reload();
    await openSettings(page);
    await expect(resolution()).toHaveValue(original);
  });

  test('a manager edits the holiday list', async ({ page }) => {
    await signInAs(page, demo.manager);
    await openSettings(page);
    const holidays = page.getByRole('region', { name: 'Holidays' });
    const textarea = holidays.getByLabel('Holidays, one YYYY-MM-DD per line');
    const original = await textarea.inputValue();
    const save = holidays.getByRole('button', { name: 'Save holidays' });

    await textarea.fill(`${original}\n2031-13-01`);
    await save.click();
    await expect(holidays.locator('#sla-holidays-error')).toContainText('is not a date');
    await expect(textarea).toHaveAttribute('aria-invalid', 'true');

    await textarea.fill(`2031-01-02\n${original}`);
    await save.click();
    await expect(holidays.getByRole('status')).toHaveText('Saved.');
    await page.reload();
    await openSettings(page);
    await expect(textarea).toHaveValue(/2031-01-02/);
    await expectAccessible(page);

    await textarea.fill(original);
    await save.click();
    await expect(holidays.getByRole('status')).toHaveText('Saved.');
    await expect(textarea).not.toHaveValue(/2031-01-02/);
  });

  test('a manager opens support on Sundays, sees the error for an impossible day, and closes it again', async ({ page }) => {
    await signInAs(page, demo.manager);
    await openSettings(page);
    const support = page.getByRole('region', { name: 'Support hours' });
    const sundayOpen = support.getByLabel('Sunday open', { exact: true });
    const opens = support.getByLabel('Sunday opens', { exact: true });
    const closes = support.getByLabel('Sunday closes', { exact: true });
    await expect(sundayOpen).not.toBeChecked();
    await expect(opens).toBeDisabled();

    await sundayOpen.check();
    await expect(opens).toBeEnabled();
    await opens.fill('14:00');
    await closes.fill('10:00');
    await support.getByRole('button', { name: 'Save support hours' }).click();
    await expect(page.locator('#support-sunday-close-error')).toContainText('after opening');
    await expect(closes).toHaveAttribute('aria-invalid', 'true');
    await expectAccessible(page);

    await opens.fill('10:00');
    await closes.fill('14:00');
    await support.getByRole('button', { name: 'Save support hours' }).click();
    await expect(support.getByRole('status')).toHaveText('Saved.');
    const week = await (await page.request.get('/api/v1/hours/weekly')).json();
    expect(week.support.sunday).toEqual({ open: '10:00', close: '14:00' });
    await page.reload();
    await openSettings(page);
    await expect(sundayOpen).toBeChecked();
    await expect(opens).toHaveValue('10:00');

    // back to the support plan's hours for the other tests
    await sundayOpen.uncheck();
    await support.getByRole('button', { name: 'Save support hours' }).click();
    await expect(support.getByRole('status')).toHaveText('Saved.');
    const restored = await (await page.request.get('/api/v1/hours/weekly')).json();
    expect(restored.support.sunday).toBeNull();
  });

  test('only managers may open the settings', async ({ page }) => {
    await signInAs(page, demo.l1);
    await page.goto('/admin/sla');
    await hydrated(page);
    await expect(page.locator('tbody tr')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Save policies' })).toHaveCount(0);
  });
});
