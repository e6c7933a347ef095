import { expect, Page, test } from '@playwright/test';
import { demo, hydrated, signInAs } from './support';

/** The rendered size of every visible radio button on the page. */
async function radioSizes(page: Page): Promise<{ width: number; height: number }[]> {
  return page.locator('input[type="radio"]:visible').evaluateAll((inputs) =>
    inputs.map((i) => {
      const r = i.getBoundingClientRect();
      return { width: Math.round(r.width), height: Math.round(r.height) };
    }),
  );
}

test('radio buttons are drawn at one size in every form, with a comfortable target', async ({ page }) => {
  await signInAs(page, demo.platinum);
  await page.goto('/tickets/new');
  await hydrated(page);
  const priority = await radioSizes(page);
  await page.goto('/calls/book');
  await hydrated(page);
  const booking = await radioSizes(page);
  expect(priority.length).toBeGreaterThanOrEqual(4);
  expect(booking.length).toBeGreaterThanOrEqual(6);
  const all = [...priority, ...booking];
  for (const size of all) {
    expect(size).toEqual(all[0]);
  }
  expect(all[0].width).toBeGreaterThanOrEqual(18);
  // the label around each choice is the target: at least 44 px tall
  const targets = await page.locator('label.choice').evaluateAll((labels) =>
    labels.map((l) => Math.round(l.getBoundingClientRect().height)),
  );
  expect(Math.min(...targets)).toBeGreaterThanOrEqual(44);
});
