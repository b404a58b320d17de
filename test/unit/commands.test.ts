/**
 * The pure rules of the stream, without a round trip: the ConversationDO's
 * commands (edit, recall, react, post, forward) as functions of its state
 * and `now`, emoji validation, what each event does to a message, and the
 * UserDO's incremental unread and mention counters. Each case names the
 * boundary it sits on, so a changed window or cap shows up here first.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ConversationMirror, Counters, Delivery, Role } from '../../durable-objects/contracts.ts';
import { edit, forwardable, post, react, recall } from '../../durable-objects/conversation/commands.ts';
import type { ConversationState } from '../../durable-objects/conversation/state.ts';
import { applyDeliveries, emptyRow, withCounters } from '../../durable-objects/user/inbox.ts';
import type { ConvRow } from '../../durable-objects/user/schema.ts';
import { applyEvent, type Event, type EventDraft, isEmoji, type MessageEvent, REACTIONS_MAX, withReaction } from '../../protocol/events.ts';
import type { Message, Reaction } from '../../protocol/messages.ts';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const WINDOW = 120;
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

let convNo = 0;
/**
 * A ConversationDO's in-memory state as a real mirror builds it (the commands read nothing else).
 * The object lives in this isolate, so the test holds it and calls the rules on it directly.
 */
async function stateOf(kind: 'single' | 'group', members: Array<[string, Role]>, blocks: string[] = []): Promise<ConversationState> {
  const id = `cmd-${kind}-${++convNo}`;
  const mirror: ConversationMirror = {
    conversationId: id, kind, version: 1, members: members.map(([userId, role]) => ({ userId, role })), settings: kind === 'group' ? { name: 'g' } : {},
  };
  const stub = env.CONVERSATIONS.getByName(id);
  await stub.setMirror(mirror);
  const st = await runInDurableObject(stub, (instance) => instance.st);
  for (const pair of blocks) st.blocks.add(pair);
  return st;
}

const group = () => stateOf('group', [['owner', 'owner'], ['admin', 'admin'], ['alice', 'member'], ['bob', 'member']]);

function msg(seq: number, senderId: string, extra: Partial<Message> = {}): Message {
  return { id: `m${seq}`, conversationId: 'c', seq, senderId, clientMsgId: `c${seq}`, type: 'text', content: `text ${seq}`, createdAt: ago(0), ...extra };
}

function event<K extends MessageEvent['kind']>(kind: K, fields: Omit<Extract<MessageEvent, { kind: K }>, 'kind' | 'conversationId' | 'seq' | 'createdAt'>, seq = 100): MessageEvent {
  return { conversationId: 'c', seq, createdAt: ago(0), kind, ...fields } as MessageEvent;
}

const reactionsOf = (n: number, userId = 'bob'): Reaction[] =>
  Array.from({ length: n }, (_, i) => ({ emoji: String.fromCodePoint(0x1f600 + i), count: 1, userIds: [userId] }));

describe('edit', () => {
  it('is open to the sender for exactly EDIT_WINDOW_SECONDS', async () => {
    const st = await group();
    expect(edit(st, 'alice', msg(1, 'alice', { createdAt: ago(WINDOW) }), 'fixed', NOW, WINDOW)).toEqual({
      kind: 'message.edited', actorId: 'alice', targetSeq: 1, content: 'fixed', editedAt: new Date(NOW).toISOString(),
    });
    const late = msg(1, 'alice', { createdAt: new Date(NOW - WINDOW * 1000 - 1).toISOString() });
    expect(edit(st, 'alice', late, 'fixed', NOW, WINDOW)).toMatchObject({ ok: false, code: 'edit_window_passed' });
  });

  it('refuses anyone but the sender (the owner too), media, gone and missing targets, bad text and outsiders', async () => {
    const st = await group();
    const mine = msg(1, 'alice');
    expect(edit(st, 'bob', mine, 'x', NOW, WINDOW)).toMatchObject({ code: 'forbidden' });
    expect(edit(st, 'owner', mine, 'x', NOW, WINDOW)).toMatchObject({ code: 'forbidden' });
    expect(edit(st, 'alice', msg(1, 'alice', { type: 'image', content: { caption: 'c' }, fileId: 'f' }), 'x', NOW, WINDOW)).toMatchObject({ code: 'validation_failed' });
    expect(edit(st, 'alice', msg(1, 'alice', { recalled: true, content: null }), 'x', NOW, WINDOW)).toMatchObject({ code: 'gone' });
    expect(edit(st, 'alice', msg(1, 'alice', { expired: true, content: null }), 'x', NOW, WINDOW)).toMatchObject({ code: 'gone' });
    expect(edit(st, 'alice', undefined, 'x', NOW, WINDOW)).toMatchObject({ code: 'not_found' });
    expect(edit(st, 'alice', mine, '  ', NOW, WINDOW)).toMatchObject({ code: 'validation_failed' });
    expect(edit(st, 'alice', mine, 'x'.repeat(4001), NOW, WINDOW)).toMatchObject({ code: 'validation_failed' });
    expect(edit(st, 'mallory', mine, 'x', NOW, WINDOW)).toMatchObject({ code: 'not_member' });
  });

  it('answers not_found, not not_member, for a conversation that does not exist', async () => {
    const st = await runInDurableObject(env.CONVERSATIONS.getByName('cmd-never-mirrored'), (instance) => instance.st);
    expect(edit(st, 'alice', msg(1, 'alice'), 'x', NOW, WINDOW)).toMatchObject({ code: 'not_found' });
  });
});

describe('recall', () => {
  it('is open to the sender for exactly RECALL_WINDOW_SECONDS', async () => {
    const st = await group();
    expect(recall(st, 'alice', msg(1, 'alice', { createdAt: ago(WINDOW) }), NOW, WINDOW)).toEqual({ kind: 'message.recalled', actorId: 'alice', targetSeq: 1 });
    const late = msg(1, 'alice', { createdAt: new Date(NOW - WINDOW * 1000 - 1).toISOString() });
    expect(recall(st, 'alice', late, NOW, WINDOW)).toMatchObject({ ok: false, code: 'recall_window_passed' });
  });

  it('lets a group’s owner and admins recall anyone’s message at any time; a plain member nobody else’s', async () => {
    const st = await group();
    const old = msg(1, 'alice', { createdAt: ago(365 * 86400) });
    expect(recall(st, 'owner', old, NOW, WINDOW)).toEqual({ kind: 'message.recalled', actorId: 'owner', targetSeq: 1 });
    expect(recall(st, 'admin', old, NOW, WINDOW)).toEqual({ kind: 'message.recalled', actorId: 'admin', targetSeq: 1 });
    expect(recall(st, 'bob', msg(1, 'alice'), NOW, WINDOW)).toMatchObject({ code: 'forbidden' });
  });

  it('in a single chat, nobody moderates: the other member cannot recall', async () => {
    const st = await stateOf('single', [['alice', 'member'], ['bob', 'member']]);
    expect(recall(st, 'bob', msg(1, 'alice'), NOW, WINDOW)).toMatchObject({ code: 'forbidden' });
    expect(recall(st, 'alice', msg(1, 'alice', { createdAt: ago(WINDOW + 1) }), NOW, WINDOW)).toMatchObject({ code: 'recall_window_passed' });
  });

  it('a second recall is answered by the first; expired and missing targets are refused', async () => {
    const st = await group();
    expect(recall(st, 'alice', msg(1, 'alice', { recalled: true, content: null }), NOW, WINDOW)).toBe('already');
    // Even past the window and by someone else: the answer is the earlier event, not a refusal.
    expect(recall(st, 'bob', msg(1, 'alice', { recalled: true, content: null, createdAt: ago(WINDOW * 10) }), NOW, WINDOW)).toBe('already');
    expect(recall(st, 'alice', msg(1, 'alice', { expired: true, content: null }), NOW, WINDOW)).toMatchObject({ code: 'gone' });
    expect(recall(st, 'alice', undefined, NOW, WINDOW)).toMatchObject({ code: 'not_found' });
    expect(recall(st, 'mallory', msg(1, 'alice'), NOW, WINDOW)).toMatchObject({ code: 'not_member' });
  });
});

describe('emoji', () => {
  it('accepts one emoji grapheme: plain, skin tones, ZWJ sequences, flags, keycaps', () => {
    for (const e of ['👍', '❤️', '👍🏽', '👨‍👩‍👧‍👦', '🧑🏿‍💻', '🏳️‍🌈', '🇯🇵', '🇺🇦', '1️⃣', '#️⃣', '*️⃣']) expect(isEmoji(e), e).toBe(true);
  });

  it('refuses text, two emoji, half a flag, a bare digit and the empty string', () => {
    for (const e of ['', 'a', 'ok', '1', '#', '👍👍', '🇯🇵🇺🇦', '🇯', 'a👍', ':+1:', '👍 ']) expect(isEmoji(e), JSON.stringify(e)).toBe(false);
  });
});

describe('react', () => {
  it('adds and removes one emoji; a repeat is unchanged', async () => {
    const st = await group();
    expect(react(st, 'bob', msg(1, 'alice'), '👍', true)).toEqual({ kind: 'reaction.added', actorId: 'bob', targetSeq: 1, emoji: '👍' });
    const liked = msg(1, 'alice', { reactions: [{ emoji: '👍', count: 1, userIds: ['bob'] }] });
    expect(react(st, 'bob', liked, '👍', true)).toBe('unchanged');
    expect(react(st, 'bob', liked, '👍', false)).toEqual({ kind: 'reaction.removed', actorId: 'bob', targetSeq: 1, emoji: '👍' });
    expect(react(st, 'alice', liked, '👍', false)).toBe('unchanged');
  });

  it(`caps a message at ${REACTIONS_MAX} distinct emoji; more people on an existing one is fine`, async () => {
    const st = await group();
    const full = msg(1, 'alice', { reactions: reactionsOf(REACTIONS_MAX) });
    expect(react(st, 'alice', full, '🚀', true)).toMatchObject({ code: 'validation_failed' });
    expect(react(st, 'alice', full, full.reactions![0]!.emoji, true)).toMatchObject({ kind: 'reaction.added' });
    expect(react(st, 'bob', full, full.reactions![0]!.emoji, false)).toMatchObject({ kind: 'reaction.removed' });
    expect(react(st, 'alice', msg(1, 'alice', { reactions: reactionsOf(REACTIONS_MAX - 1) }), '🚀', true)).toMatchObject({ kind: 'reaction.added' });
  });

  it('refuses a bad emoji, gone and missing targets, and outsiders', async () => {
    const st = await group();
    expect(react(st, 'bob', msg(1, 'alice'), 'ab', true)).toMatchObject({ code: 'validation_failed' });
    expect(react(st, 'bob', msg(1, 'alice', { recalled: true, content: null }), '👍', true)).toMatchObject({ code: 'gone' });
    expect(react(st, 'bob', msg(1, 'alice', { expired: true, content: null }), '👍', false)).toMatchObject({ code: 'gone' });
    expect(react(st, 'bob', undefined, '👍', true)).toMatchObject({ code: 'not_found' });
    expect(react(st, 'mallory', msg(1, 'alice'), '👍', true)).toMatchObject({ code: 'not_member' });
  });
});

describe('post and forward', () => {
  const text = (extra: Record<string, unknown> = {}) => ({ clientMsgId: 'x', type: 'text' as const, content: 'hi', ...extra });

  it('checks membership, content, replies, mentions and @all', async () => {
    const st = await group();
    expect(post(st, 'alice', text(), 'none')).toBeUndefined();
    expect(post(st, 'mallory', text(), 'none')).toMatchObject({ code: 'not_member' });
    expect(post(st, 'alice', text({ content: '' }), 'none')).toMatchObject({ code: 'validation_failed' });
    expect(post(st, 'alice', text({ replyToSeq: 3 }), 'event')).toMatchObject({ code: 'validation_failed' });
    expect(post(st, 'alice', text({ replyToSeq: 3 }), 'none')).toMatchObject({ code: 'validation_failed' });
    expect(post(st, 'alice', text({ replyToSeq: 3 }), 'message')).toBeUndefined();
    expect(post(st, 'alice', text({ mentions: ['bob'] }), 'none')).toBeUndefined();
    expect(post(st, 'alice', text({ mentions: ['bob', 'mallory'] }), 'none')).toMatchObject({ code: 'validation_failed' });
    expect(post(st, 'alice', text({ mentionAll: true }), 'none')).toMatchObject({ code: 'forbidden' });
    expect(post(st, 'admin', text({ mentionAll: true }), 'none')).toBeUndefined();
    expect(post(st, 'owner', text({ mentionAll: true }), 'none')).toBeUndefined();
  });

  it('a single chat has no @all, and a block stops both sides', async () => {
    const st = await stateOf('single', [['alice', 'member'], ['bob', 'member']], ['alice|bob']);
    expect(post(st, 'bob', text(), 'none')).toMatchObject({ code: 'blocked' });
    expect(post(st, 'alice', text(), 'none')).toMatchObject({ code: 'blocked' });
    const open = await stateOf('single', [['alice', 'member'], ['bob', 'member']]);
    expect(post(open, 'alice', text({ mentionAll: true }), 'none')).toMatchObject({ code: 'forbidden' });
  });

  it('forwards only what is there, visible to the caller, and not gone', async () => {
    const st = await group();
    const source = msg(5, 'bob');
    expect(forwardable(st, 'alice', source)).toBe(source);
    expect(forwardable(st, 'alice', msg(5, 'bob', { recalled: true, content: null }))).toMatchObject({ code: 'gone' });
    expect(forwardable(st, 'alice', msg(5, 'bob', { expired: true, content: null }))).toMatchObject({ code: 'gone' });
    expect(forwardable(st, 'alice', undefined)).toMatchObject({ code: 'not_found' });
    expect(forwardable(st, 'mallory', source)).toMatchObject({ code: 'not_member' });
    st.setMember({ userId: 'late', role: 'member', readSeq: 10, readMsgNo: 5, joinedSeq: 10, leftSeq: null });
    expect(forwardable(st, 'late', source)).toMatchObject({ code: 'not_found' });
  });
});

describe('applyEvent', () => {
  const rich = msg(1, 'alice', {
    fileId: 'f1', type: 'image', content: { caption: 'c' }, mentions: ['bob'], mentionAll: true, editedAt: ago(1),
    forwardedFrom: { conversationId: 'o', seq: 2, senderId: 'carol' }, reactions: [{ emoji: '👍', count: 1, userIds: ['bob'] }], replyToSeq: 3, expiresAt: ago(-60),
  });

  it('message.edited: the new content and editedAt, nothing else', () => {
    const e = event('message.edited', { actorId: 'alice', targetSeq: 1, content: 'new', editedAt: ago(0) });
    expect(applyEvent(msg(1, 'alice'), e)).toEqual({ ...msg(1, 'alice'), content: 'new', editedAt: ago(0) });
  });

  it('message.recalled and message.expired: a tombstone that keeps seq, sender, time and place, without content, file, mentions or reactions', () => {
    const keep = { id: 'm1', conversationId: 'c', seq: 1, senderId: 'alice', clientMsgId: 'c1', type: 'image', replyToSeq: 3, expiresAt: ago(-60), createdAt: ago(0), content: null };
    expect(applyEvent(rich, event('message.recalled', { actorId: 'alice', targetSeq: 1 }))).toEqual({ ...keep, recalled: true });
    expect(applyEvent(rich, event('message.expired', { actorId: 'alice', targetSeq: 1 }))).toEqual({ ...keep, expired: true });
  });

  it('reaction.added and reaction.removed: the reactions as they are now; the last one gone drops the field', () => {
    const plain = msg(1, 'alice');
    const liked = applyEvent(plain, event('reaction.added', { actorId: 'bob', targetSeq: 1, emoji: '👍' }));
    expect(liked.reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['bob'] }]);
    const twice = applyEvent(liked, event('reaction.added', { actorId: 'alice', targetSeq: 1, emoji: '👍' }));
    expect(twice.reactions).toEqual([{ emoji: '👍', count: 2, userIds: ['bob', 'alice'] }]);
    const back = applyEvent(applyEvent(twice, event('reaction.removed', { actorId: 'bob', targetSeq: 1, emoji: '👍' })), event('reaction.removed', { actorId: 'alice', targetSeq: 1, emoji: '👍' }));
    expect(back).toEqual(plain);
    expect('reactions' in back).toBe(false);
  });
});

describe('withReaction', () => {
  const start: Reaction[] = [{ emoji: '👍', count: 2, userIds: ['a', 'b'] }, { emoji: '🎉', count: 1, userIds: ['a'] }];

  it('adds a user to an emoji once, keeps first-reaction order, and leaves its input alone', () => {
    const snapshot = structuredClone(start);
    expect(withReaction(start, '🎉', 'b', true)).toEqual([start[0], { emoji: '🎉', count: 2, userIds: ['a', 'b'] }]);
    expect(withReaction(start, '👍', 'a', true)).toEqual(start);
    expect(withReaction(start, '🚀', 'c', true)).toEqual([...start, { emoji: '🚀', count: 1, userIds: ['c'] }]);
    expect(start).toEqual(snapshot);
  });

  it('removes a user; an emoji nobody holds any more disappears; removing what is not there changes nothing', () => {
    expect(withReaction(start, '👍', 'a', false)).toEqual([{ emoji: '👍', count: 1, userIds: ['b'] }, start[1]]);
    expect(withReaction(start, '🎉', 'a', false)).toEqual([start[0]]);
    expect(withReaction(start, '🎉', 'z', false)).toEqual(start);
    expect(withReaction(start, '🚀', 'a', false)).toEqual(start);
  });
});

describe('the UserDO’s counters', () => {
  const me = 'me';
  const row = (extra: Partial<Pick<ConvRow, 'last_seq' | 'read_seq' | 'counted_seq' | 'unread'>> = {}): ConvRow => ({ ...emptyRow('c'), ...extra });
  const m = (seq: number, senderId: string, extra: Partial<Message> = {}): Delivery => ({ item: { message: msg(seq, senderId, extra) } });
  const e = (seq: number, ev: EventDraft, target?: Delivery['target']): Delivery => ({
    item: { event: { conversationId: 'c', seq, createdAt: ago(0), ...ev } as Event }, ...(target ? { target } : {}),
  });
  const counts = (r: ConvRow) => ({ unread: r.unread, mentions: r.mentions, last_seq: r.last_seq, counted_seq: r.counted_seq, read_seq: r.read_seq });

  it('a message from someone else counts one; events do not; my own message means I read everything', () => {
    let r = applyDeliveries(row(), [m(1, 'bob'), m(2, 'carol'), e(3, { kind: 'reaction.added', actorId: 'bob', targetSeq: 1, emoji: '👍' })], me).row;
    expect(counts(r)).toEqual({ unread: 2, mentions: 0, last_seq: 3, counted_seq: 3, read_seq: 0 });
    r = applyDeliveries(r, [m(4, 'bob', { mentions: [me] }), m(5, me)], me).row;
    expect(counts(r)).toEqual({ unread: 0, mentions: 0, last_seq: 5, counted_seq: 5, read_seq: 5 });
    expect(JSON.parse(r.last_message!)).toMatchObject({ seq: 5, senderId: me });
  });

  it('mentions of me and @all count; mentions of others and my own @all do not', () => {
    const r = applyDeliveries(row(), [m(1, 'bob', { mentions: [me] }), m(2, 'bob', { mentionAll: true }), m(3, 'bob', { mentions: ['carol'] }), m(4, 'bob', { mentions: [me, 'carol'] })], me).row;
    expect(counts(r)).toMatchObject({ unread: 4, mentions: 3 });
    const mine = applyDeliveries(row(), [m(1, me, { mentionAll: true })], me).row;
    expect(counts(mine)).toMatchObject({ unread: 0, mentions: 0 });
  });

  it('a recall takes its message off again (and its mention); a recall of mine or of a read message does not', () => {
    let r = applyDeliveries(row(), [m(1, 'bob', { mentions: [me] }), m(2, 'bob')], me).row;
    r = applyDeliveries(r, [e(3, { kind: 'message.recalled', actorId: 'bob', targetSeq: 1 }, { senderId: 'bob', mentions: [me] })], me).row;
    expect(counts(r)).toMatchObject({ unread: 1, mentions: 0 });
    r = applyDeliveries(r, [e(4, { kind: 'message.expired', actorId: 'bob', targetSeq: 2 }, { senderId: 'bob' })], me).row;
    expect(counts(r)).toMatchObject({ unread: 0, mentions: 0 });
    // Read up to 5, then a recall of 5: it was not counted, so nothing comes off.
    r = applyDeliveries(row({ read_seq: 5, last_seq: 5, counted_seq: 5 }), [m(6, 'bob'), e(7, { kind: 'message.recalled', actorId: 'bob', targetSeq: 5 }, { senderId: 'bob' })], me).row;
    expect(counts(r)).toMatchObject({ unread: 1 });
    r = applyDeliveries(row(), [m(1, me), m(2, 'bob'), e(3, { kind: 'message.recalled', actorId: me, targetSeq: 1 }, { senderId: me })], me).row;
    expect(counts(r)).toMatchObject({ unread: 1 });
  });

  it('a message that arrives already recalled counts once and its recall takes it off: unread and mentions end at 0', () => {
    const gone: Delivery = { ...m(1, 'bob', { recalled: true, content: null }), target: { senderId: 'bob', mentions: [me] } };
    const first = applyDeliveries(row(), [gone], me).row;
    expect(counts(first)).toMatchObject({ unread: 1, mentions: 1 });
    const after = applyDeliveries(first, [e(2, { kind: 'message.recalled', actorId: 'bob', targetSeq: 1 }, { senderId: 'bob', mentions: [me] })], me).row;
    expect(counts(after)).toMatchObject({ unread: 0, mentions: 0 });
    expect(JSON.parse(after.last_message!)).toMatchObject({ seq: 1, recalled: true, content: null });
  });

  it('the last message follows edits and recalls of itself', () => {
    let r = applyDeliveries(row(), [m(1, 'bob'), e(2, { kind: 'message.edited', actorId: 'bob', targetSeq: 1, content: 'better', editedAt: ago(0) })], me).row;
    expect(JSON.parse(r.last_message!)).toMatchObject({ seq: 1, content: 'better', editedAt: ago(0) });
    r = applyDeliveries(r, [e(3, { kind: 'message.recalled', actorId: 'bob', targetSeq: 1 }, { senderId: 'bob' })], me).row;
    expect(JSON.parse(r.last_message!)).toMatchObject({ seq: 1, recalled: true, content: null });
  });

  it('repeats are ignored, and my own departure is reported', () => {
    const once = applyDeliveries(row(), [m(1, 'bob'), m(2, 'bob')], me).row;
    const again = applyDeliveries(once, [m(1, 'bob'), m(2, 'bob')], me);
    expect(again.row).toEqual(once);
    expect(applyDeliveries(once, [e(3, { kind: 'member.removed', actorId: 'owner', userId: 'bob' })], me).departed).toBe(false);
    expect(applyDeliveries(once, [e(3, { kind: 'member.left', actorId: me, userId: me })], me).departed).toBe(true);
    expect(applyDeliveries(once, [e(3, { kind: 'member.removed', actorId: 'owner', userId: me })], me).departed).toBe(true);
  });

  const fromDo = (c: Partial<Counters>): Counters => ({ lastSeq: 0, readSeq: 0, unreadCount: 0, mentionCount: 0, joinedSeq: 0, ...c });

  it('counted_seq: counters from a read that arrive before the deliveries they include are not counted again', () => {
    // The read moved at seq 3 while seqs 2 and 3 were still on their way: the DO counted them already.
    const read = withCounters(applyDeliveries(row(), [m(1, 'bob')], me).row, fromDo({ lastSeq: 3, readSeq: 1, unreadCount: 2, mentionCount: 1 }));
    expect(counts(read)).toEqual({ unread: 2, mentions: 1, last_seq: 1, counted_seq: 3, read_seq: 1 });
    const late = applyDeliveries(read, [m(2, 'bob', { mentions: [me] }), m(3, 'bob'), m(4, 'bob')], me).row;
    expect(counts(late)).toEqual({ unread: 3, mentions: 1, last_seq: 4, counted_seq: 4, read_seq: 1 });
    // A recall inside what the DO already counted is not taken off twice either.
    const recalled = applyDeliveries(withCounters(row({ last_seq: 2, counted_seq: 2, unread: 2 }), fromDo({ lastSeq: 3, unreadCount: 1 })), [e(3, { kind: 'message.recalled', actorId: 'bob', targetSeq: 2 }, { senderId: 'bob' })], me).row;
    expect(counts(recalled)).toMatchObject({ unread: 1, counted_seq: 3 });
  });

  it('counted_seq: counters older than what the row already counted are ignored; newer or equal ones replace it', () => {
    const delivered = applyDeliveries(row(), [m(1, 'bob'), m(2, 'bob'), m(3, 'bob')], me).row;
    expect(withCounters(delivered, fromDo({ lastSeq: 2, readSeq: 1, unreadCount: 1 }))).toEqual(delivered);
    expect(counts(withCounters(delivered, fromDo({ lastSeq: 3, readSeq: 3, unreadCount: 0 })))).toEqual({ unread: 0, mentions: 0, last_seq: 3, counted_seq: 3, read_seq: 3 });
    // The read cursor never goes back, even with counters that replace the counts.
    expect(withCounters(row({ read_seq: 5, counted_seq: 5 }), fromDo({ lastSeq: 6, readSeq: 2, unreadCount: 4 })).read_seq).toBe(5);
  });
});
