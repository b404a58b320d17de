/**
 * The web client beyond the chat itself: a 360 px phone screen, a Chinese
 * browser (Chinese text, the same accessible names), the keyboard alone,
 * and the service worker that push notifications go through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, befriend, register, type Account } from '../e2e/client.ts';
import { launchChromium } from './chromium.ts';
import { conversations, eventually, messageLog, messageWith, openApp, pageErrors, signIn } from './app.ts';

let browser: Browser;
let alice: Account;
let bob: Account;

beforeAll(async () => {
  browser = await launchChromium();
  [alice, bob] = await Promise.all([register(), register()]);
  await befriend(alice, bob);
  const conv = await api('POST', '/api/v1/conversations', { token: alice.accessToken, body: { kind: 'single', peerId: bob.user.id } });
  await api('POST', `/api/v1/conversations/${conv.body.id}/messages`, { token: bob.accessToken, body: { clientMsgId: 'ui-1', type: 'text', content: 'a long line that has to wrap on a narrow phone screen rather than push the page sideways' } });
});

afterAll(() => browser?.close());

describe('web client UI', () => {
  it('works at 360 px: the list, then the chat with its composer, nothing wider than the screen', async () => {
    const { context, page } = await openApp(browser, { width: 360, height: 740 });
    await signIn(page, alice.user.username, alice.password);
    const fits = () => page.evaluate('document.documentElement.scrollWidth <= 360');
    expect(await fits()).toBe(true);
    await conversations(page).getByRole('link', { name: new RegExp(bob.user.username) }).click();
    await messageWith(page, 'narrow phone screen').waitFor();
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Send' }).isVisible()).toBe(true);
    expect(await conversations(page).isVisible()).toBe(false); // one pane at a time
    expect(await fits()).toBe(true);
    await page.getByRole('button', { name: 'Back' }).click();
    await conversations(page).waitFor();
    expect(await pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a Chinese browser shows Chinese text under the same accessible names', async () => {
    const { context, page } = await openApp(browser, { locale: 'zh-CN' });
    expect(await page.getByRole('button', { name: 'Sign in' }).textContent()).toBe('登录');
    expect(await page.getByRole('button', { name: 'Create account' }).textContent()).toBe('创建账号');
    await signIn(page, bob.user.username, bob.password);
    expect(await page.getByRole('button', { name: 'Sign out' }).textContent()).toBe('退出登录');
    expect(await page.getByRole('searchbox', { name: 'Search users' }).getAttribute('placeholder')).toBe('搜索用户');
    await conversations(page).getByRole('link', { name: new RegExp(alice.user.username) }).click();
    expect(await page.getByRole('button', { name: 'Send' }).textContent()).toBe('发送');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await context.close();
  });

  it('is usable with the keyboard alone: sign in, send, and a message menu', async () => {
    const { context, page } = await openApp(browser);
    await page.getByRole('textbox', { name: 'Username or email' }).focus();
    await page.keyboard.type(alice.user.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    const link = conversations(page).getByRole('link', { name: new RegExp(bob.user.username) });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Message', exact: true }).focus();
    await page.keyboard.type('typed, not clicked');
    await page.keyboard.press('Enter');
    const mine = messageWith(page, 'typed, not clicked');
    await mine.waitFor();

    const trigger = mine.getByRole('button', { name: 'Message actions' });
    await trigger.focus();
    await page.keyboard.press('Enter');
    const first = page.getByRole('menuitem').first();
    await eventually(() => first.evaluate((el) => el === el.ownerDocument.activeElement));
    await page.keyboard.press('ArrowDown');
    await eventually(() => page.getByRole('menuitem').nth(1).evaluate((el) => el === el.ownerDocument.activeElement));
    await page.keyboard.press('Escape');
    await eventually(async () => (await page.getByRole('menu').count()) === 0);
    expect(await trigger.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    // Into the menu again and pick "Reply" by keys: the composer says whom it answers.
    await page.keyboard.press('ArrowDown');
    const reply = page.getByRole('menuitem', { name: 'Reply' });
    await reply.waitFor();
    await reply.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Cancel reply' }).waitFor();
    expect(await messageLog(page).getByRole('article').count()).toBeGreaterThanOrEqual(2);
    await context.close();
  });

  it('registers the service worker that shows push notifications', async () => {
    const { context, page } = await openApp(browser);
    await signIn(page, bob.user.username, bob.password);
    await eventually(() => page.evaluate(`navigator.serviceWorker.getRegistration('/').then((r) => r?.active?.scriptURL.endsWith('/sw.js') === true)`));
    // Headless Chromium here reaches no push service: the button must still end in a clear answer, not an error.
    await context.grantPermissions(['notifications']);
    await page.getByRole('button', { name: 'Enable notifications' }).click();
    await eventually(async () => (await page.getByText(/Notifications are (on|not available in this browser)/).count()) === 1);
    expect(await pageErrors(page)).toEqual([]);
    await context.close();
  });
});
