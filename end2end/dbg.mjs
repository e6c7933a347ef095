import { chromium } from '@playwright/test';
const [,, email, ...paths] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ baseURL: 'http://127.0.0.1:3300', viewport: { width: 1280, height: 800 } });
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('CONSOLE', m.type(), m.text().slice(0, 600)); });
page.on('pageerror', (e) => console.log('PAGEERROR', e.message.slice(0, 600)));
await page.goto('/signin');
await page.waitForFunction(() => window.__supportalHydrated === true);
await page.getByLabel('Email').fill(email);
await page.locator('#password').fill('supportal-demo');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByTestId('welcome').waitFor();
for (const p of paths) {
  console.log('== ', p);
  await page.goto(p);
  try { await page.waitForFunction(() => window.__supportalHydrated === true, null, { timeout: 8000 }); console.log('hydrated'); } catch { console.log('NOT HYDRATED'); }
  await page.waitForTimeout(1500);
  console.log('slot-week count', await page.getByTestId('slot-week').count());
}
await browser.close();
