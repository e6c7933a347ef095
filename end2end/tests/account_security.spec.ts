import { expect, test } from '@playwright/test';
import { linkIn, waitForMail } from './mail';
import { expectAccessible, hydrated, signInAs, SignInPage, uniqueEmail } from './support';

async function register(request: import('@playwright/test').APIRequestContext, tag: string, password: string): Promise<string> {
  const email = uniqueEmail(tag);
  const r = await request.post('/api/v1/auth/register', { data: { email, password, name: 'Sam Secure' } });
  expect(r.status()).toBe(201);
  return email;
}

test.describe('account safety', () => {
  test('a forgotten password is reset with a link that arrives by email and works once', async ({ page, request }) => {
    const email = await register(request, 'reset', 'the old passphrase');

    const signIn = new SignInPage(page);
    await signIn.goto();
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
    await hydrated(page);
    await expectAccessible(page);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByTestId('reset-requested')).toContainText('If an account uses this address');

    // the link arrives through the real SMTP server
    const mail = await waitForMail(request, email, (m) => m.subject.includes('Choose a new password'));
    expect(mail.text).toContain('works once, for 30 minutes');
    const link = linkIn(mail, '/reset-password');
    expect(link).toMatch(/^\/reset-password\?token=[0-9a-f]{64}$/);

    await page.goto(link);
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    await expectAccessible(page);
    const field = page.locator('#new_password');
    await field.fill('short');
    await page.getByRole('button', { name: 'Save and sign in' }).click();
    await expect(page.locator('#new_password-error')).toContainText('at least 10 characters');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await field.fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Save and sign in' }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('user-name')).toHaveText('Sam Secure');

    // the owner is told, the old password is gone, the new one works, the link is used up
    await waitForMail(request, email, (m) => m.subject.includes('password was reset'));
    const old = await request.post('/api/v1/auth/tokens', { data: { email, password: 'the old passphrase', label: 'x' } });
    expect(old.status()).toBe(401);
    await page.context().clearCookies();
    await signInAs(page, email, 'a brand new passphrase');
    await page.goto(link);
    await expect(page.getByTestId('reset-link-expired')).toContainText('expired or was already used');
    await expect(page.getByRole('link', { name: 'Ask for a new link' })).toBeVisible();
  });

  test('the answer does not tell whether an address has an account', async ({ page }) => {
    await page.goto('/forgot-password');
    await hydrated(page);
    await page.getByLabel('Email').fill(uniqueEmail('nobody'));
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByTestId('reset-requested')).toContainText('If an account uses this address');
    await page.goto('/forgot-password');
    await hydrated(page);
    await page.getByLabel('Email').fill('not an address');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.locator('#email-error')).not.toBeEmpty();
  });

  test('changing the password signs out other browsers; "sign out everywhere" signs out this one too', async ({ page, browser, request }) => {
    const email = await register(request, 'change', 'the first passphrase');
    await signInAs(page, email, 'the first passphrase');
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signInAs(otherPage, email, 'the first passphrase');

    await page.goto('/account');
    await hydrated(page);
    const form = page.getByTestId('change-password');
    await expectAccessible(page);
    await form.getByLabel('Current password').fill('not my password');
    await form.getByLabel('New password').fill('the second passphrase');
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect(page.locator('#current_password-error')).toContainText('not your current password');
    await expect(form.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');

    await form.getByLabel('Current password').fill('the first passphrase');
    await form.getByLabel('New password').fill('the second passphrase');
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByTestId('password-changed')).toBeVisible();
    await waitForMail(request, email, (m) => m.subject.includes('password was changed'));

    // this browser stays signed in, the other one is out
    await page.goto('/account');
    await expect(page.getByTestId('account-security')).toBeVisible();
    await otherPage.goto('/account');
    await expect(otherPage.getByTestId('signin-required')).toBeVisible();
    await signInAs(otherPage, email, 'the second passphrase');

    await hydrated(page);
    await page.getByTestId('sign-out-everywhere').click();
    await expect(page).toHaveURL(/\/signin$/);
    await otherPage.goto('/account');
    await expect(otherPage.getByTestId('signin-required')).toBeVisible();
    await other.close();
  });
});
