import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { demo, DEMO_PASSWORD, expectAccessible, hydrated, signInAs } from './support';

async function bearer(request: APIRequestContext, email: string): Promise<Record<string, string>> {
  const token = await request.post('/api/v1/auth/tokens', { data: { email, password: DEMO_PASSWORD, label: 'e2e' } });
  expect(token.status()).toBe(201);
  return { Authorization: `Bearer ${(await token.json()).token}` };
}

async function createArticle(request: APIRequestContext, title: string, body_md: string): Promise<string> {
  const r = await request.post('/api/v1/articles', {
    headers: await bearer(request, demo.l2),
    data: { title, category: 'troubleshooting', body_md, published: true },
  });
  expect(r.status()).toBe(201);
  return (await r.json()).slug;
}

/** The knowledge base search page, as its visitors use it. */
class KbPage {
  constructor(private page: Page) {}

  async goto(): Promise<void> {
    await this.page.goto('/kb');
    await hydrated(this.page);
  }

  search() {
    return this.page.getByLabel('Search articles');
  }

  results() {
    return this.page.getByTestId('kb-results');
  }
}

test.describe('knowledge base', () => {
  test('a customer searches and sees highlighted results, filters by category, and gets an empty state', async ({ page }) => {
    await signInAs(page, demo.general);
    const kb = new KbPage(page);
    await kb.goto();
    await expect(page.getByRole('heading', { name: 'Getting Started' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Advanced Topics' })).toBeVisible();
    await expectAccessible(page);

    await kb.search().pressSequentially('webhook signa', { delay: 30 });
    await expect(page).toHaveURL(/\/kb\?q=webhook%20signa/);
    await expect(kb.results()).toContainText('Troubleshooting notifications and webhooks');
    const first = page.getByTestId('kb-result').first();
    await expect(first.locator('mark').first()).toBeVisible();
    for (const word of await first.locator('mark').allTextContents()) {
      expect(word).toMatch(/^(webhook|signa)/i);
    }
    await expect(kb.search()).toHaveValue('webhook signa');
    await expect(kb.search()).toBeFocused();
    await expectAccessible(page);

    // Open a result, and come back.
    await first.getByRole('link').first().click();
    await expect(page.getByTestId('kb-title')).toBeVisible();
    await expect(page.getByTestId('kb-body')).toContainText('X-Supportal-Signature');
    await page.goBack();

    await kb.search().fill('zzzqxv');
    const empty = page.getByTestId('kb-empty');
    await expect(empty).toContainText('No articles match “zzzqxv”');
    await expect(empty.getByRole('link', { name: 'open a ticket' })).toHaveAttribute('href', '/tickets/new');

    await kb.search().fill('');
    await page.getByLabel('Category').selectOption('troubleshooting');
    await expect(page).toHaveURL(/category=troubleshooting/);
    await expect(page.getByRole('heading', { name: 'Troubleshooting', exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Getting Started' })).toBeHidden();
  });

  test('typing a ticket subject shows matching articles beside the form without losing the text', async ({ page }) => {
    await signInAs(page, demo.platinum);
    await page.goto('/tickets/new');
    await hydrated(page);
    const subject = page.getByLabel('Subject');
    const suggestions = page.getByTestId('kb-suggestions');
    await expect(suggestions).toContainText('Type a subject');
    await subject.pressSequentially('My webhook deliveries', { delay: 40 });
    const list = page.getByTestId('kb-suggestion-list');
    await expect(list).toContainText('Troubleshooting notifications and webhooks');
    await expect(list.locator('mark').first()).toBeVisible();
    await expect(list.getByRole('link').first()).toHaveAttribute('target', '_blank');
    await expect(subject).toHaveValue('My webhook deliveries');
    await expect(subject).toBeFocused();

    // Keep typing while suggestions reload: nothing typed is lost, the rest of the form keeps its values.
    await page.getByLabel('Description').fill('Half of them time out.');
    await subject.focus();
    await subject.press('End');
    await subject.pressSequentially(' fail since the export', { delay: 25 });
    await expect(subject).toHaveValue('My webhook deliveries fail since the export');
    await expect(list).toContainText('Exporting tickets and metrics (CSV)');
    await expect(page.getByLabel('Description')).toHaveValue('Half of them time out.');

    // Beside the form on wide screens, below it on phones.
    const field = await subject.boundingBox();
    const aside = await suggestions.boundingBox();
    expect(field && aside).toBeTruthy();
    if ((page.viewportSize()?.width ?? 0) >= 960) {
      expect(aside!.x).toBeGreaterThan(field!.x + field!.width - 1);
    } else {
      expect(aside!.y).toBeGreaterThan(field!.y + field!.height);
    }
    await expectAccessible(page);
  });

  test('an agent writes an article with a live preview and publishes it', async ({ page, browser }) => {
    await signInAs(page, demo.l2);
    await page.goto('/kb');
    await hydrated(page);
    await page.getByRole('link', { name: 'New article' }).click();
    await expect(page).toHaveURL(/\/kb\/new$/);
    await hydrated(page);
    const title = `Rotating a webhook secret ${Date.now()}`;
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Category').selectOption('advanced-topics');
    const body = page.locator('#kb-body');
    await body.fill('## Steps\n\n1. Open **Settings**\n2. Choose *Rotate secret*\n\n<b onclick="window.__xss=1">bold</b>');
    const preview = page.getByTestId('kb-preview-body');
    await expect(preview.locator('h3')).toHaveText('Steps');
    await expect(preview.locator('strong')).toHaveText('Settings');
    await expect(preview.locator('b')).toHaveText('bold');
    await expect(preview.locator('[onclick]')).toHaveCount(0);
    await body.press('End');
    await body.pressSequentially('\n\nDone **quickly**.', { delay: 20 });
    await expect(preview).toContainText('Done quickly.');
    await expect(page.getByLabel('Title')).toHaveValue(title);
    await expectAccessible(page);

    // Validation errors sit beside their fields.
    await page.getByLabel('Address').fill('Not A Slug');
    await page.getByRole('button', { name: 'Save article' }).click();
    await expect(page.locator('#kb-slug-error')).toContainText('lowercase');
    await page.getByLabel('Address').fill('');

    await page.getByLabel(/^Published/).check();
    await page.getByRole('button', { name: 'Save article' }).click();
    await expect(page.getByTestId('kb-title')).toHaveText(title);
    await expect(page.getByTestId('kb-body').locator('strong').first()).toHaveText('Settings');
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    const slug = page.url().split('/kb/')[1];

    // A customer finds it at once.
    const context = await browser.newContext({ baseURL: new URL(page.url()).origin, viewport: page.viewportSize() ?? undefined });
    const customer = await context.newPage();
    await customer.goto(`/kb?q=${encodeURIComponent('rotating secret')}`);
    await hydrated(customer);
    await expect(customer.getByTestId('kb-results').getByRole('link', { name: title })).toHaveAttribute('href', `/kb/${slug}`);
    await context.close();
  });

  test('a hostile article renders inert in a real browser', async ({ page, request }) => {
    const marker = `Hostile ${Date.now()}`;
    const slug = await createArticle(
      request,
      marker,
      [
        'Before the hostile parts.',
        '<script>window.__xss = 1; alert(1)</script>',
        '[click me](javascript:window.__xss=2;alert(2))',
        '<a href="JaVaScRiPt:window.__xss=3;alert(3)">shout</a>',
        '<img src=x onerror="window.__xss=4;alert(4)">',
        '<iframe src="javascript:alert(5)"></iframe>',
        '<p style="position:fixed;inset:0" onmouseover="window.__xss=6">cover</p>',
        'After the hostile parts.',
      ].join('\n\n'),
    );
    let dialogs = 0;
    page.on('dialog', async (dialog) => {
      dialogs += 1;
      await dialog.dismiss();
    });
    await page.goto(`/kb/${slug}`);
    await hydrated(page);
    const body = page.getByTestId('kb-body');
    await expect(body).toContainText('After the hostile parts.');
    expect(await body.locator('script, iframe, object, embed, style, form').count()).toBe(0);
    expect(await body.locator('[onerror], [onclick], [onmouseover], [onload], [style]').count()).toBe(0);
    const hrefs = await body.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(hrefs.filter((h) => h !== null && /^\s*javascript:/i.test(h))).toEqual([]);
    for (const rel of await body.locator('a[href]').evaluateAll((links) => links.map((a) => a.getAttribute('rel')))) {
      expect(rel).toBe('noopener noreferrer nofollow');
    }
    await body.getByText('click me').click();
    await body.getByText('shout').click();
    await body.getByText('cover').hover();
    await page.waitForTimeout(300);
    expect(dialogs).toBe(0);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await expect(page).toHaveURL(new RegExp(`/kb/${slug}$`));
  });

  test('anyone answers "was this helpful?" once and can change it; staff see the counts', async ({ page, browser }) => {
    await page.goto('/kb/how-sla-clocks-work');
    await hydrated(page);
    await expect(page.getByTestId('kb-title')).toHaveText('How SLA clocks work');
    await expect(page.getByTestId('helpful-counts')).toHaveCount(0);
    const yes = page.getByTestId('helpful-yes');
    const no = page.getByTestId('helpful-no');
    await expect(yes).toHaveAttribute('aria-pressed', 'false');
    await yes.click();
    await expect(yes).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('helpful-thanks')).toContainText('Thanks for your feedback');
    await expectAccessible(page);

    // This browser is remembered; changing the answer replaces it.
    await page.reload();
    await hydrated(page);
    await expect(yes).toHaveAttribute('aria-pressed', 'true');
    await no.click();
    await expect(no).toHaveAttribute('aria-pressed', 'true');
    await expect(yes).toHaveAttribute('aria-pressed', 'false');
    await expect(page.getByTestId('helpful-thanks').getByRole('link', { name: 'open a ticket' })).toBeVisible();

    const context = await browser.newContext({ baseURL: new URL(page.url()).origin, viewport: page.viewportSize() ?? undefined });
    const manager = await context.newPage();
    await signInAs(manager, demo.manager);
    await manager.goto('/kb/how-sla-clocks-work');
    await hydrated(manager);
    await expect(manager.getByTestId('helpful-counts')).toContainText(/\d+ of \d+ found this helpful/);
    await expect(manager.getByRole('link', { name: 'Edit' })).toBeVisible();
    await expectAccessible(manager);
    await context.close();
  });
});
