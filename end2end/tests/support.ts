import { expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const DEMO_PASSWORD = 'supportal-demo';
export const demo = {
  platinum: 'platinum@demo.supportal.test',
  general: 'general@demo.supportal.test',
  l1: 'l1@demo.supportal.test',
  l2: 'l2@demo.supportal.test',
  manager: 'manager@demo.supportal.test',
};

export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the WASM bundle has hydrated the page (buttons respond). */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).__supportalHydrated === true);
}

/** The header navigation; on phones it sits behind the menu button. */
export class Nav {
  constructor(private page: Page) {}

  async open(): Promise<void> {
    const toggle = this.page.getByRole('button', { name: 'Menu' });
    if (await toggle.isVisible()) {
      if ((await toggle.getAttribute('aria-expanded')) !== 'true') {
        await toggle.click();
      }
      await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    }
  }

  links() {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link');
  }

  async linkNames(): Promise<string[]> {
    await this.open();
    return (await this.links().allTextContents()).map((t) => t.trim());
  }

  async signOut(): Promise<void> {
    await this.open();
    await this.page.getByRole('button', { name: 'Sign out' }).click();
  }
}

export class SignInPage {
  constructor(private page: Page) {}

  async goto(next?: string): Promise<void> {
    await this.page.goto(next ? `/signin?next=${encodeURIComponent(next)}` : '/signin');
    await hydrated(this.page);
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page.getByLabel('Email').fill(email);
    await this.page.locator('#password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}

export class RegisterPage {
  constructor(private page: Page) {}

  async goto(): Promise<void> {
    await this.page.goto('/register');
    await hydrated(this.page);
  }

  async register(name: string, email: string, password: string): Promise<void> {
    await this.page.getByLabel('Your name').fill(name);
    await this.page.getByLabel('Email').fill(email);
    await this.page.locator('#password').fill(password);
    await this.page.getByRole('button', { name: 'Create account' }).click();
  }
}

export async function signInAs(page: Page, email: string, password = DEMO_PASSWORD): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto();
  await signIn.signIn(email, password);
  await expect(page.getByTestId('welcome')).toBeVisible();
}

/** No serious or critical axe-core violation on the current page. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}
