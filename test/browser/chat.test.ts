/**
 * Two people in two browser profiles chat through the web client, through
 * every step the API supports: sign up, friend request and accept, the chat,
 * messages both ways, typing, "Seen by", an image that renders, a reaction,
 * an edit, a recall the other side sees, a reply, a forward into a group,
 * group roles and announcement, history paging, a search hit with its
 * highlight, a reload that keeps the history, and an offline/online
 * transition that catches up without a reload. The steps share the two
 * profiles and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { solidPng } from '../fixtures/png.ts';
import { api, uniqueName } from '../e2e/client.ts';
import { launchChromium } from './chromium.ts';
import {
  conversations,
  eventually,
  messageAction,
  messageLog,
  messageSaying,
  messageWith,
  openApp,
  pageErrors,
  screenshot,
  send,
  signUp,
  type Person,
} from './app.ts';

let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  browser = await launchChromium();
  const [a, b] = await Promise.all([openApp(browser), openApp(browser)]);
  alice = { username: uniqueName('alice'), ...a };
  bob = { username: uniqueName('bob'), ...b };
});

afterAll(async () => {
  expect(await pageErrors(alice.page)).toEqual([]);
  expect(await pageErrors(bob.page)).toEqual([]);
  await browser?.close();
});

/** The access token a page holds (for setting up bulk data through the REST API). */
async function tokenOf(p: Person): Promise<string> {
  const raw = await p.page.evaluate(() => localStorage.getItem('beehive.tokens'));
  return (JSON.parse(raw!) as { accessToken: string }).accessToken;
}

describe('two people chat in the web client', () => {
  it('sign up', async () => {
    await screenshot(alice.page, 'sign-in');
    await signUp(alice.page, alice.username);
    await signUp(bob.page, bob.username);
    await expect.poll(() => alice.page.getByRole('status').filter({ hasText: 'Online' }).count()).toBeGreaterThan(0);
  });

  it('a friend request, accepted: both are friends', async () => {
    await alice.page.getByRole('searchbox', { name: 'Search users' }).fill(bob.username);
    const result = alice.page.getByRole('list', { name: 'Users found' }).getByRole('listitem').filter({ hasText: bob.username });
    await result.getByRole('button', { name: 'Add friend' }).click();
    await expect.poll(() => result.textContent()).toContain('Request sent');
    // Bob's socket brings the request live.
    const request = bob.page.getByRole('listitem').filter({ hasText: alice.username });
    await request.getByRole('button', { name: 'Reject' }).waitFor();
    await request.getByRole('button', { name: 'Accept' }).click();
    const bobsFriend = bob.page.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: alice.username });
    await bobsFriend.getByRole('button', { name: 'Message' }).waitFor();
    // Alice hears of the acceptance over her socket.
    await alice.page.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: bob.username }).getByRole('button', { name: 'Message' }).waitFor();
  });

  it('a message arrives live, with an unread count in the list, and "Seen by" once read', async () => {
    await alice.page.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: bob.username }).getByRole('button', { name: 'Message' }).click();
    await messageLog(alice.page).waitFor();
    await send(alice.page, 'Hello Bob, pineapple pizza tonight?');
    await messageWith(alice.page, 'pineapple pizza').waitFor();

    const item = conversations(bob.page).getByRole('link', { name: new RegExp(`^${alice.username}`) });
    await item.getByTitle('1 unread').waitFor();
    await expect.poll(() => item.textContent()).toContain('pineapple pizza');
    await screenshot(bob.page, 'conversation-list');

    await item.click();
    await messageWith(bob.page, 'Hello Bob, pineapple pizza tonight?').waitFor();
    // The peer's presence is in the chat's header.
    await bob.page.getByRole('region', { name: alice.username }).getByText('online', { exact: true }).waitFor();
    await eventually(async () => (await item.getByTitle('1 unread').count()) === 0);
    await messageWith(alice.page, 'pineapple pizza').getByText(`Seen by ${bob.username}`).waitFor();
  });

  it('typing shows on the other side, and a reply comes back', async () => {
    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('Sure', { delay: 20 });
    await alice.page.getByText(`${bob.username} is typing`).waitFor();
    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await messageWith(alice.page, 'Sure').waitFor();
    await eventually(async () => (await alice.page.getByText(`${bob.username} is typing`).count()) === 0);
    // Bob replies to Alice's message: the quote travels with it.
    await messageAction(bob.page, 'pineapple pizza', 'Reply');
    await send(bob.page, 'With extra cheese');
    const reply = messageWith(alice.page, 'With extra cheese');
    await reply.waitFor();
    await expect.poll(() => reply.textContent()).toContain('pineapple pizza');
  });

  it('an image, uploaded with progress, renders on both sides', async () => {
    // Held back a moment on its way, so the progress bar is there to be seen.
    await alice.page.route('**/api/v1/files/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH') await new Promise((r) => setTimeout(r, 600));
      await route.continue();
    });
    await alice.page.getByLabel('Attach file').setInputFiles({ name: 'honey.png', mimeType: 'image/png', buffer: solidPng(48, 32) });
    await alice.page.getByRole('progressbar', { name: 'Upload progress' }).waitFor();
    for (const p of [alice.page, bob.page]) {
      const img = messageLog(p).getByRole('img').last();
      await img.waitFor();
      await eventually(() => img.evaluate((el: { complete: boolean; naturalWidth: number }) => el.complete && el.naturalWidth === 48));
    }
    // Anything else is a file message: a download link.
    await alice.page.getByLabel('Attach file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('bring napkins\n') });
    await messageLog(bob.page).getByRole('link', { name: 'Download notes.txt' }).waitFor();
  });

  it('a reaction and an edit are seen by the other side', async () => {
    await messageAction(alice.page, 'With extra cheese', 'React');
    await alice.page.getByRole('menuitem', { name: '👍' }).click();
    await messageWith(bob.page, 'With extra cheese').getByRole('button', { name: '👍 1' }).waitFor();

    await messageAction(alice.page, 'pineapple pizza', 'Edit');
    const edit = alice.page.getByRole('textbox', { name: 'Edit message' });
    await edit.fill('Hello Bob, mango pizza tonight?');
    await alice.page.getByRole('button', { name: 'Save' }).click();
    const edited = messageSaying(bob.page, 'mango pizza');
    await edited.waitFor();
    await expect.poll(() => edited.textContent()).toContain('edited');
    await expect.poll(() => messageWith(bob.page, 'pineapple').count()).toBe(0); // the reply's quote shows the new text too
  });

  it('a recall is seen by the other side', async () => {
    await send(alice.page, 'oops, wrong chat');
    await messageWith(bob.page, 'oops, wrong chat').waitFor();
    await messageAction(alice.page, 'oops, wrong chat', 'Recall');
    await eventually(async () => (await messageWith(bob.page, 'oops, wrong chat').count()) === 0);
    await messageWith(bob.page, 'This message was recalled').waitFor();
    await screenshot(bob.page, 'chat');
  });

  it('a search finds the edited message by its new text, with the match highlighted', async () => {
    const box = bob.page.getByRole('searchbox', { name: 'Search messages' });
    const hits = bob.page.getByRole('list', { name: 'Search results' });
    // Indexing is asynchronous (QStash): type again until the hit is there.
    await eventually(async () => {
      await box.fill('');
      await box.fill('mango');
      await hits.waitFor({ timeout: 2000 });
      return (await hits.getByRole('listitem').filter({ hasText: 'mango pizza' }).count()) > 0;
    }, 20_000);
    const mark = hits.getByRole('listitem').filter({ hasText: 'mango pizza' }).locator('mark');
    await expect.poll(() => mark.first().textContent()).toBe('mango');
    await screenshot(bob.page, 'search');
    await box.fill('pineapple');
    await hits.getByText('No messages found').waitFor();
    await box.fill('');
  });

  it('a reload keeps the history', async () => {
    await bob.page.reload();
    await messageSaying(bob.page, 'mango pizza').waitFor();
    await messageWith(bob.page, 'With extra cheese').getByRole('button', { name: '👍 1' }).waitFor();
    await messageWith(bob.page, 'This message was recalled').waitFor();
    await expect.poll(() => messageLog(bob.page).getByRole('img').count()).toBe(1);
  });

  it('offline, then online: the UI says so and catches up without a reload', async () => {
    await bob.context.setOffline(true);
    await bob.page.getByRole('status').filter({ hasText: 'Offline' }).waitFor();
    await send(alice.page, 'sent while you were away');
    await messageWith(alice.page, 'sent while you were away').waitFor();
    await bob.page.waitForTimeout(300);
    expect(await messageWith(bob.page, 'sent while you were away').count()).toBe(0);
    await bob.context.setOffline(false);
    await bob.page.getByRole('status').filter({ hasText: 'Online' }).waitFor();
    await messageWith(bob.page, 'sent while you were away').waitFor();
    // Caught up by sync, not by a reload: what was on screen is still there, each message once.
    expect(await messageWith(bob.page, 'sent while you were away').count()).toBe(1);
  });

  it('older pages load on scrolling up', async () => {
    const token = await tokenOf(alice);
    const conversationId = decodeURIComponent(new URL(alice.page.url()).pathname.split('/').pop()!);
    for (let batch = 0; batch < 5; batch++) {
      const sent = await Promise.all(
        Array.from({ length: 9 }, (_, j) => batch * 9 + j + 1).map((i) =>
          api('POST', `/api/v1/conversations/${conversationId}/messages`, { token, body: { clientMsgId: `bulk-${i}`, type: 'text', content: `bulk message ${i}` } }),
        ),
      );
      expect(sent.map((r) => r.status)).toEqual(Array(9).fill(201));
    }
    await bob.page.reload();
    await messageWith(bob.page, 'bulk message 45').waitFor();
    // The log scrolls, not the page: it is as tall as the window leaves it, and starts at the bottom.
    const box = await messageLog(bob.page).evaluate((el) => ({ scrollTop: el.scrollTop, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight }));
    expect(box.clientHeight).toBeLessThan(760);
    expect(box.scrollTop + box.clientHeight).toBeGreaterThanOrEqual(box.scrollHeight - 2);
    expect(await messageSaying(bob.page, 'mango pizza').count()).toBe(0);
    await eventually(async () => {
      await messageLog(bob.page).evaluate((el) => el.scrollTo({ top: 0 }));
      return (await messageSaying(bob.page, 'mango pizza').count()) === 1;
    });
    // The page before came in above, in order, once each.
    const seqs = await messageLog(bob.page).getByRole('article').evaluateAll((els) => els.map((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.seq)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a group: created with a friend, a message forwarded into it, roles and the announcement', async () => {
    await alice.page.getByRole('button', { name: 'New group' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'New group' });
    await dialog.getByRole('textbox', { name: 'Group name' }).fill('Pizza club');
    await dialog.getByRole('checkbox', { name: bob.username }).check();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await alice.page.getByRole('heading', { name: 'Pizza club' }).waitFor();
    await conversations(bob.page).getByRole('link', { name: /Pizza club/ }).waitFor();
    // An @mention: Bob's list counts it apart from the unread ones.
    await send(alice.page, `@${bob.username} are you in?`);
    await conversations(bob.page).getByRole('link', { name: /Pizza club/ }).getByTitle('mentions you').waitFor();

    // Forward from the single chat into the group.
    await conversations(alice.page).getByRole('link', { name: new RegExp(`^${bob.username}`) }).click();
    await messageAction(alice.page, 'bulk message 45', 'Forward');
    await alice.page.getByRole('dialog', { name: 'Forward to' }).getByRole('button', { name: 'Pizza club' }).click();
    await conversations(bob.page).getByRole('link', { name: /Pizza club/ }).click();
    const forwarded = messageWith(bob.page, 'bulk message 45');
    await forwarded.waitFor();
    await expect.poll(() => forwarded.textContent()).toContain('Forwarded');

    // Alice (owner) makes Bob an admin and sets an announcement; Bob sees both.
    await conversations(alice.page).getByRole('link', { name: /Pizza club/ }).click();
    await alice.page.getByRole('button', { name: 'Group info' }).click();
    const info = alice.page.getByRole('dialog', { name: 'Group info' });
    await info.getByRole('listitem').filter({ hasText: bob.username }).getByRole('button', { name: 'Make admin' }).click();
    await info.getByRole('listitem').filter({ hasText: bob.username }).getByRole('button', { name: 'Make member' }).waitFor();
    await info.getByRole('textbox', { name: 'Announcement' }).fill('Fridays at eight');
    await info.getByRole('button', { name: 'Save announcement' }).click();
    await info.getByRole('button', { name: 'Close' }).click();
    await bob.page.getByText('Fridays at eight').waitFor();
    await bob.page.getByRole('button', { name: 'Group info' }).click();
    await bob.page.getByRole('dialog', { name: 'Group info' }).getByRole('listitem').filter({ hasText: bob.username }).getByText('admin').waitFor();
    // Bob leaves: the group leaves his list.
    await bob.page.getByRole('dialog', { name: 'Group info' }).getByRole('button', { name: 'Leave group' }).click();
    await eventually(async () => (await conversations(bob.page).getByRole('link', { name: /Pizza club/ }).count()) === 0);
  });

  it('blocking ends the friendship', async () => {
    const friend = bob.page.getByRole('list', { name: 'Friends' }).getByRole('listitem').filter({ hasText: alice.username });
    await friend.getByRole('button', { name: 'Block' }).click();
    await eventually(async () => (await friend.count()) === 0);
    await bob.page.getByRole('status').filter({ hasText: 'is blocked' }).waitFor();
  });
});
