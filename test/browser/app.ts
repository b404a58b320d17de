/**
 * The web client driven like a person would, through roles and accessible
 * names only (API.md § Web client): helpers shared by the browser tests.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ROOT } from '../../local/stack.ts';
import { stack } from '../e2e/client.ts';

export interface Person {
  username: string;
  context: BrowserContext;
  page: Page;
}

/** A fresh browser profile (its own storage: its own session) with one page on the app. */
export async function openApp(browser: Browser, opts: { width?: number; height?: number; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 760 }, locale: opts.locale ?? 'en-US' });
  const page = await context.newPage();
  await page.goto(stack.api);
  return { context, page };
}

/** Uncaught errors the page has thrown, as messages. */
export async function pageErrors(page: Page): Promise<string[]> {
  return (await page.pageErrors({ filter: 'all' })).map((e) => e.message);
}

export async function signUp(page: Page, username: string, password = 'correct horse battery'): Promise<void> {
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('textbox', { name: 'Username', exact: true }).fill(username);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Register' }).click();
  await expect.poll(() => page.getByRole('navigation', { name: 'Conversations' }).isVisible()).toBe(true);
}

export async function signIn(page: Page, login: string, password = 'correct horse battery'): Promise<void> {
  await page.getByRole('textbox', { name: 'Username or email' }).fill(login);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('navigation', { name: 'Conversations' }).isVisible()).toBe(true);
}

export const conversations = (page: Page): Locator => page.getByRole('navigation', { name: 'Conversations' });
export const messageLog = (page: Page): Locator => page.getByRole('log', { name: 'Messages' });
/** The message of the log that shows `text`. */
export const messageWith = (page: Page, text: string | RegExp): Locator => messageLog(page).getByRole('article').filter({ hasText: text });

/** The message showing `text` itself, not a reply that quotes it. */
export const messageSaying = (page: Page, text: string | RegExp): Locator => messageWith(page, text).filter({ hasNot: page.getByRole('blockquote') });

/** Sends a text message through the composer. */
export async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Opens a message's menu and picks an item ("Edit", "Recall", "React", "Reply", "Forward"). */
export async function messageAction(page: Page, text: string, item: string): Promise<void> {
  // The first: a reply quoting the message comes after it.
  await messageWith(page, text).first().getByRole('button', { name: 'Message actions' }).click();
  await page.getByRole('menuitem', { name: item }).click();
}

/** `until` holds within `ms` (polling a condition the page reaches asynchronously). */
export async function eventually(check: () => Promise<unknown>, ms = 10_000): Promise<void> {
  await expect.poll(async () => {
    try {
      return (await check()) !== false;
    } catch {
      return false;
    }
  }, { timeout: ms, interval: 100 }).toBe(true);
}

/** With BEEHIVE_SCREENSHOTS=1, a screenshot to docs/screenshots/<name>.png (for the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.BEEHIVE_SCREENSHOTS !== '1') return;
  const dir = path.join(ROOT, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
