import { expect, test } from '@playwright/test';
import { demo, expectAccessible, hydrated, Nav, RegisterPage, signInAs, SignInPage, uniqueEmail } from './support';

test.describe('accounts', () => {
  test('register, see customer navigation, sign out, sign back in', async ({ page }) => {
    const email = uniqueEmail('reg');
    const register = new RegisterPage(page);
    await register.goto();
    await register.register('Robin Customer', email, 'a long passphrase');
    await expect(page.getByTestId('welcome')).toHaveText('Hello, Robin');
    const nav = new Nav(page);
    expect(await nav.linkNames()).toEqual(['Home', 'My tickets', 'Calls', 'Features', 'Roadmap', 'Help', 'Account']);
    await expect(page.getByTestId('user-role')).toHaveText('general customer');

    await nav.signOut();
    await expect(page.getByRole('heading', { name: 'Support that keeps its promises' })).toBeVisible();
    expect(await nav.linkNames()).toEqual(['Home', 'Features', 'Help', 'Sign in', 'Create account']);

    await signInAs(page, email, 'a long passphrase');
    await expect(page.getByTestId('user-name')).toHaveText('Robin Customer');
  });

  test('signing in happens without a full page load (the page is hydrated)', async ({ page }) => {
    const signIn = new SignInPage(page);
    await signIn.goto();
    await page.evaluate(() => ((window as any).__sameDocument = 'still here'));
    await signIn.signIn(demo.platinum, 'supportal-demo');
    await expect(page.getByTestId('welcome')).toHaveText('Hello, Paula');
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe('still here');
    // the password toggle is a purely client-side control
    await page.goto('/signin');
    await hydrated(page);
    const password = page.locator('#password');
    await expect(password).toHaveAttribute('type', 'password');
    await page.getByTestId('toggle-password').click();
    await expect(password).toHaveAttribute('type', 'text');
  });

  test('errors are shown beside the field that is wrong', async ({ page }) => {
    const register = new RegisterPage(page);
    await register.goto();
    await register.register('Weak Password', uniqueEmail('weak'), 'short');
    const password = page.locator('#password');
    await expect(password).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#password-error')).toContainText('at least 10 characters');
    await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'false');

    await register.register('Dup', demo.general, 'a long passphrase');
    await expect(page.locator('#email-error')).toContainText('already exists');

    const signIn = new SignInPage(page);
    await signIn.goto();
    await signIn.signIn(demo.general, 'wrong password here');
    await expect(page.getByRole('alert')).toContainText('do not match');
  });

  test('after signing in, ?next= brings you back', async ({ page }) => {
    await page.goto('/account');
    await expect(page.getByTestId('signin-required')).toBeVisible();
    const signIn = new SignInPage(page);
    await signIn.goto('/account');
    await signIn.signIn(demo.general, 'supportal-demo');
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  });

  test('role-specific navigation', async ({ page }) => {
    const nav = new Nav(page);
    await signInAs(page, demo.l1);
    expect(await nav.linkNames()).toEqual(['Home', 'Queue', 'Tickets', 'Calls', 'Features', 'Roadmap', 'Help', 'Account']);
    await expect(page.getByTestId('user-role')).toHaveText('agent · L1');
    await page.goto('/admin/users');
    await expect(page.getByTestId('forbidden')).toBeVisible();
    await nav.signOut();
    await expect(page.getByRole('heading', { name: 'Support that keeps its promises' })).toBeVisible();
    expect(await nav.linkNames()).toEqual(['Home', 'Features', 'Help', 'Sign in', 'Create account']);

    await signInAs(page, demo.manager);
    expect(await nav.linkNames()).toEqual(['Home', 'Queue', 'Tickets', 'Calls', 'Features', 'Roadmap', 'Help', 'Users', 'SLA', 'Metrics', 'Integrations', 'Account']);
  });
});

test.describe('API tokens', () => {
  test('create, use once-shown token, revoke', async ({ page, request }) => {
    // A new account: the demo users collect tokens from other tests' API calls.
    const email = uniqueEmail('tokens');
    const registered = await request.post('/api/v1/auth/register', {
      data: { email, password: 'token-test-password', name: 'Toby Tokens' },
    });
    expect(registered.status()).toBe(201);
    await signInAs(page, email, 'token-test-password');
    await page.goto('/account');
    await hydrated(page);
    await expect(page.getByText('No tokens yet')).toBeVisible();
    await page.getByLabel('Label').fill('Playwright');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByTestId('new-token').locator('code');
    await expect(shown).toContainText('sp_');
    const token = (await shown.textContent())!.trim();

    const me = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status()).toBe(200);
    expect((await me.json()).email).toBe(email);

    const list = page.getByTestId('token-list');
    await expect(list).toContainText('Playwright');
    // tokens expire in 30 days unless another lifetime is chosen
    await expect(list.getByTestId('token-expiry')).toContainText('expires');
    await list.getByRole('button', { name: 'Revoke' }).click();
    await expect(page.getByText('No tokens yet')).toBeVisible();
    const after = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(after.status()).toBe(401);
  });
});

test.describe('managers', () => {
  test('change a customer to platinum and back', async ({ page }) => {
    await signInAs(page, demo.manager);
    await page.goto('/admin/users');
    await hydrated(page);
    const row = page.getByTestId(`user-${demo.general}`);
    await expect(row).toBeVisible();
    const tier = row.getByLabel('Tier');
    await tier.selectOption('platinum');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row.getByRole('status')).toHaveText('Saved.');
    await tier.selectOption('general');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row.getByRole('status')).toHaveText('Saved.');
  });

  test('add an agent; the form names what is wrong', async ({ page }) => {
    await signInAs(page, demo.manager);
    await page.goto('/admin/users');
    await hydrated(page);
    await page.getByText('Add a user').click();
    const form = page.locator('details.panel');
    await form.getByLabel('Name').fill('Nia Newhire');
    await form.getByLabel('Email').fill('not-an-email');
    await form.getByLabel('Initial password').fill('a long passphrase');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(form.locator('#new-email-error')).toContainText('email address');
    const email = uniqueEmail('agent');
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Level').selectOption('L2');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(form.getByRole('status')).toContainText('Added Nia Newhire');
    await page.getByLabel('Search users').fill(email);
    await expect(page.getByTestId(`user-${email}`)).toBeVisible();
  });
});

test.describe('shell', () => {
  test('support hours are shown on every page', async ({ page }) => {
    for (const path of ['/', '/signin', '/nope']) {
      await page.goto(path);
      await expect(page.getByTestId('support-hours')).toHaveText(/^Support (open now — closes|closed — opens) .+ ET( \(.+ your time\))?$/);
    }
  });

  test('unknown pages answer 404 with a way home', async ({ page }) => {
    const response = await page.goto('/definitely/not/here');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await page.getByRole('link', { name: 'Go to the home page' }).click();
    await expect(page).toHaveURL(/\/$/);
  });

  test('keyboard: skip link and visible focus', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await expect(skip).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.locator('main')).toBeFocused();
  });

  test('phone menu opens and closes', async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'the menu button only exists on narrow screens');
    await page.goto('/');
    await hydrated(page);
    const toggle = page.getByRole('button', { name: 'Menu' });
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    const navSignIn = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' });
    await expect(navSignIn).toBeHidden();
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await navSignIn.click();
    await expect(page).toHaveURL(/\/signin$/);
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  });

  test('nothing overflows a 360 px screen', async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'phone layout');
    for (const path of ['/', '/signin', '/register']) {
      await page.goto(path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await signInAs(page, demo.manager);
    await page.goto('/admin/users');
    await expect(page.getByTestId('user-list')).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  });
});

test.describe('accessibility (axe-core: no serious or critical violation)', () => {
  for (const path of ['/', '/signin', '/register', '/nope']) {
    test(`signed out ${path}`, async ({ page }) => {
      await page.goto(path);
      await hydrated(page);
      await expectAccessible(page);
    });
  }

  test('signed-in pages', async ({ page }) => {
    await signInAs(page, demo.manager);
    for (const path of ['/', '/account', '/admin/users']) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.locator('main h1')).toBeVisible();
      await expectAccessible(page);
    }
  });
});
