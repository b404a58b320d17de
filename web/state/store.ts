/**
 * The app's one store: the session, the device socket and its cursors, and
 * what the screens show (conversations, threads, people, presence, typing,
 * read state), as signals. Screens read the signals and call the methods;
 * nothing else holds state that outlives a component.
 *
 * Data flow: REST loads a snapshot (the conversation list, a page of
 * history); the socket's `sync` then replays everything after the snapshot's
 * `lastSeq`s, and live frames follow. Both paths meet in the same pure
 * functions (threads.ts, conversations.ts), keyed by seq, so a message seen
 * twice is shown once.
 */
import { batch, computed, signal } from '@preact/signals';
import {
  ApiError,
  BeehiveSocket,
  createApi,
  isMessageEvent,
  randomId,
  type Api,
  type Conversation,
  type Event,
  type Friend,
  type FriendRequest,
  type Message,
  type Presence,
  type RegisterBody,
  type ServerFrame,
  type SocketState,
  type User,
} from '../../client/index.ts';
import { byActivity, peerOf, withNewMessage } from './conversations.ts';
import { acrossTabs, deviceIds, storedTokens } from './session.ts';
import { EMPTY_THREAD, lastOwn, withEvent, withEvents, withMessage, withPage, type Thread } from './threads.ts';

/** History page size: one screenful and some. */
export const PAGE = 30;
/** How long a `typing` frame shows "… is typing" (clients send one every few seconds while typing). */
const TYPING_SHOWN_MS = 6000;
/** Events kept per conversation to re-apply to pages loaded after them. */
const RECENT_EVENTS = 200;

export interface Notice {
  text: string;
  kind: 'error' | 'info';
}

export class AppStore {
  readonly api: Api;
  readonly devices = deviceIds();

  readonly me = signal<User | null>(null);
  readonly connection = signal<SocketState>('offline');
  readonly conversations = signal<Record<string, Conversation>>({});
  readonly ordered = computed(() => byActivity(Object.values(this.conversations.value)));
  readonly threads = signal<Record<string, Thread>>({});
  readonly users = signal<Record<string, User>>({});
  readonly presence = signal<Record<string, Presence>>({});
  /** conversation → user → until when (ms) they are shown typing. */
  readonly typing = signal<Record<string, Record<string, number>>>({});
  /** conversation → user → the seq they have read up to. */
  readonly reads = signal<Record<string, Record<string, number>>>({});
  readonly friends = signal<Friend[]>([]);
  readonly incoming = signal<FriendRequest[]>([]);
  readonly outgoing = signal<FriendRequest[]>([]);
  /** The conversation on screen. */
  readonly activeId = signal<string | null>(null);
  readonly notice = signal<Notice | null>(null);

  private socket: BeehiveSocket | null = null;
  private readonly recentEvents = new Map<string, Event[]>();
  private readonly lastTypingSent = new Map<string, number>();
  private readonly loadingUsers = new Set<string>();
  private readonly fileUrls = new Map<string, { url: string; expiresAt: number }>();
  private unsubscribers: Array<() => void> = [];

  constructor(baseUrl = '') {
    this.api = createApi({ baseUrl, tokens: storedTokens, exclusive: acrossTabs, onSignedOut: () => this.reset() });
  }

  get signedIn(): boolean {
    return this.api.auth.tokens !== null;
  }

  // ── session ─────────────────────────────────────────────────────────────

  async signIn(login: string, password: string): Promise<void> {
    const r = await this.api.auth.login({ login, password, deviceId: this.devices.browser });
    await this.begin(r.user);
  }

  async register(body: RegisterBody): Promise<void> {
    const r = await this.api.auth.register(body);
    await this.begin(r.user);
  }

  async signOut(): Promise<void> {
    await this.api.auth.logout().catch(() => undefined);
    this.reset();
  }

  /** After a reload with stored tokens: who am I, then everything else. */
  async resume(): Promise<void> {
    if (!this.signedIn) return;
    try {
      await this.begin(await this.api.users.me());
    } catch (err) {
      // A network failure keeps the session (the socket retries); only the server's "no" ends it (onSignedOut).
      if (err instanceof ApiError && err.status === 0) this.connection.value = 'offline';
      else this.fail(err);
    }
  }

  private async begin(user: User): Promise<void> {
    this.me.value = user;
    this.remember([user]);
    await Promise.all([this.loadConversations(), this.loadFriends(), this.loadRequests()]).catch((err) => this.fail(err));
    this.connect();
  }

  /** Forget everything of the session (signed out here or by the server). */
  private reset(): void {
    this.socket?.stop();
    this.socket = null;
    for (const off of this.unsubscribers) off();
    this.unsubscribers = [];
    storedTokens.set(null);
    batch(() => {
      this.me.value = null;
      this.conversations.value = {};
      this.threads.value = {};
      this.friends.value = [];
      this.incoming.value = [];
      this.outgoing.value = [];
      this.activeId.value = null;
      this.connection.value = 'offline';
    });
    this.recentEvents.clear();
  }

  // ── the socket ──────────────────────────────────────────────────────────

  private connect(): void {
    const url = new URL('/api/v1/ws', this.api.http.baseUrl || location.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new BeehiveSocket({
      url: url.toString(),
      deviceId: this.devices.socket,
      ticket: async () => (await this.api.auth.wsTicket()).ticket,
      cursors: Object.fromEntries(Object.values(this.conversations.value).map((c) => [c.id, c.lastSeq])),
    });
    this.socket = socket;
    this.unsubscribers.push(
      socket.onState((s) => {
        this.connection.value = s;
        if (s === 'online') this.markActiveRead();
      }),
      socket.onFrame((f) => this.onFrame(f)),
    );
    // Browsers keep a socket open through a network change without noticing; these events say so at once.
    const offline = () => socket.pause();
    const online = () => socket.resume();
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    this.unsubscribers.push(() => window.removeEventListener('offline', offline), () => window.removeEventListener('online', online));
    if (navigator.onLine === false) this.connection.value = 'offline';
    else socket.start();
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'message.new':
        return this.onMessage(f.message);
      case 'conversation.event':
        return this.onEvent(f.event);
      case 'conversation.updated':
        return this.onConversationView(f.conversation);
      case 'receipt.read':
        return this.onRead(f.conversationId, f.userId, f.seq);
      case 'typing':
        return this.onTyping(f.conversationId, f.userId);
      case 'presence':
        this.presence.value = { ...this.presence.value, [f.userId]: { online: f.online, lastSeenAt: f.lastSeenAt } };
        return;
      case 'friend.request':
        if (f.request.toUserId === this.me.value?.id) this.incoming.value = [f.request, ...this.incoming.value.filter((r) => r.id !== f.request.id)];
        void this.ensureUsers([f.request.fromUserId]);
        return;
      case 'friend.accepted':
        this.outgoing.value = this.outgoing.value.filter((r) => r.toUserId !== f.userId);
        void this.loadFriends();
        return;
      case 'error':
        // Answers to requests of ours reject their promise; what is left is news (a rate limit, a refused read).
        if (!f.ref) this.notify(f.message);
        return;
    }
  }

  private onMessage(m: Message): void {
    const me = this.me.value?.id ?? '';
    const conv = this.conversations.value[m.conversationId];
    if (!conv) return void this.loadConversation(m.conversationId);
    const seen = this.activeId.value === m.conversationId && document.visibilityState === 'visible';
    batch(() => {
      this.conversations.value = { ...this.conversations.value, [conv.id]: withNewMessage(conv, m, me, seen) };
      this.updateThread(m.conversationId, (t) => (t.loaded ? withMessage(t, m, me) : t));
      const typing = this.typing.value[m.conversationId];
      if (typing?.[m.senderId]) {
        const { [m.senderId]: _gone, ...rest } = typing;
        this.typing.value = { ...this.typing.value, [m.conversationId]: rest };
      }
    });
    void this.ensureUsers([m.senderId]);
    if (seen) this.markActiveRead();
  }

  private onEvent(e: Event): void {
    const recent = this.recentEvents.get(e.conversationId) ?? [];
    recent.push(e);
    if (recent.length > RECENT_EVENTS) recent.shift();
    this.recentEvents.set(e.conversationId, recent);
    this.updateThread(e.conversationId, (t) => withEvent(t, e));
    const conv = this.conversations.value[e.conversationId];
    if (!conv) return;
    if (isMessageEvent(e) && conv.lastMessage?.seq === e.targetSeq) {
      const lastMessage = withEvent({ ...EMPTY_THREAD, messages: [conv.lastMessage] }, e).messages[0];
      this.conversations.value = { ...this.conversations.value, [conv.id]: { ...conv, lastMessage, lastSeq: Math.max(conv.lastSeq, e.seq) } };
    } else {
      this.conversations.value = { ...this.conversations.value, [conv.id]: { ...conv, lastSeq: Math.max(conv.lastSeq, e.seq) } };
    }
    // The server keeps the counters (a recall takes an unread message away) and the member list: ask it.
    if (e.kind === 'message.recalled' || e.kind === 'message.expired' || e.kind.startsWith('member.') || e.kind === 'conversation.updated') {
      void this.loadConversation(e.conversationId);
    }
  }

  private onConversationView(view: Conversation | Omit<Conversation, 'lastSeq' | 'unreadCount' | 'mentionCount'>): void {
    const me = this.me.value?.id;
    const known = this.conversations.value[view.id];
    if (!view.members.some((m) => m.userId === me)) {
      const { [view.id]: _left, ...rest } = this.conversations.value;
      this.conversations.value = rest;
      if (this.activeId.value === view.id) this.activeId.value = null;
      return;
    }
    if (!known) return void this.loadConversation(view.id);
    this.conversations.value = { ...this.conversations.value, [view.id]: { ...known, ...view } };
    void this.ensureUsers(view.members.map((m) => m.userId));
  }

  private onRead(conversationId: string, userId: string, seq: number): void {
    const reads = this.reads.value[conversationId] ?? {};
    if ((reads[userId] ?? 0) < seq) this.reads.value = { ...this.reads.value, [conversationId]: { ...reads, [userId]: seq } };
    // Read on another device of mine: the counters moved there.
    if (userId === this.me.value?.id) {
      const conv = this.conversations.value[conversationId];
      if (conv && seq >= conv.lastSeq) this.conversations.value = { ...this.conversations.value, [conversationId]: { ...conv, unreadCount: 0, mentionCount: 0 } };
      else void this.loadConversation(conversationId);
    }
  }

  private onTyping(conversationId: string, userId: string): void {
    if (userId === this.me.value?.id) return;
    const until = Date.now() + TYPING_SHOWN_MS;
    this.typing.value = { ...this.typing.value, [conversationId]: { ...this.typing.value[conversationId], [userId]: until } };
    setTimeout(() => {
      const now = this.typing.value[conversationId] ?? {};
      if ((now[userId] ?? 0) > Date.now()) return;
      const { [userId]: _done, ...rest } = now;
      this.typing.value = { ...this.typing.value, [conversationId]: rest };
    }, TYPING_SHOWN_MS + 50);
  }

  // ── loading ─────────────────────────────────────────────────────────────

  private async loadConversations(): Promise<void> {
    const all: Conversation[] = [];
    let cursor: string | undefined;
    // Enough for anyone's list; older ones come back with their next message.
    for (let page = 0; page < 10; page++) {
      const r = await this.api.conversations.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      all.push(...r.items);
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    this.conversations.value = Object.fromEntries(all.map((c) => [c.id, c]));
    this.socket?.seed(Object.fromEntries(all.map((c) => [c.id, c.lastSeq])));
    await this.ensureUsers(all.flatMap((c) => c.members.map((m) => m.userId)));
    await this.loadPresence(all.map((c) => peerOf(c, this.me.value?.id ?? '')).filter((id): id is string => !!id));
  }

  /** One conversation from the server (new to me, or its counters or members changed). */
  async loadConversation(id: string): Promise<Conversation | undefined> {
    try {
      const c = await this.api.conversations.get(id);
      this.conversations.value = { ...this.conversations.value, [id]: c };
      await this.ensureUsers(c.members.map((m) => m.userId));
      return c;
    } catch (err) {
      // Not a member (any more): it is not mine to show.
      if (err instanceof ApiError && (err.code === 'not_member' || err.code === 'not_found')) {
        const { [id]: _gone, ...rest } = this.conversations.value;
        this.conversations.value = rest;
        return undefined;
      }
      this.fail(err);
      return undefined;
    }
  }

  async loadFriends(): Promise<void> {
    const r = await this.api.friends.list({ limit: 100 });
    batch(() => {
      this.friends.value = r.items;
      this.remember(r.items.map((f) => f.user));
      const presence = { ...this.presence.value };
      for (const f of r.items) presence[f.user.id] = { online: f.online, lastSeenAt: f.lastSeenAt };
      this.presence.value = presence;
    });
  }

  async loadRequests(): Promise<void> {
    const [inc, out] = await Promise.all([this.api.friends.requests('incoming'), this.api.friends.requests('outgoing')]);
    this.incoming.value = inc.items;
    this.outgoing.value = out.items;
    await this.ensureUsers(inc.items.map((r) => r.fromUserId));
  }

  private async loadPresence(userIds: string[]): Promise<void> {
    const ids = [...new Set(userIds)].filter((id) => !this.presence.value[id]).slice(0, 200);
    if (ids.length === 0) return;
    const r = await this.api.presence.query(ids);
    this.presence.value = { ...this.presence.value, ...r.presence };
  }

  /** Profiles of these users, fetched once each. */
  async ensureUsers(ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.users.value[id] && !this.loadingUsers.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.loadingUsers.add(id);
    try {
      for (let i = 0; i < missing.length; i += 100) this.remember((await this.api.users.many(missing.slice(i, i + 100))).items);
    } finally {
      for (const id of missing) this.loadingUsers.delete(id);
    }
  }

  remember(users: User[]): void {
    if (users.length) this.users.value = { ...this.users.value, ...Object.fromEntries(users.map((u) => [u.id, u])) };
  }

  // ── a conversation on screen ────────────────────────────────────────────

  thread(id: string): Thread {
    return this.threads.value[id] ?? EMPTY_THREAD;
  }

  private updateThread(id: string, change: (t: Thread) => Thread): void {
    const before = this.threads.value[id];
    if (!before) return;
    const after = change(before);
    if (after !== before) this.threads.value = { ...this.threads.value, [id]: after };
  }

  /** Shows a conversation: its newest page, the read state of my last message, and my read cursor moved. */
  async open(id: string): Promise<void> {
    this.activeId.value = id;
    const conv = this.conversations.value[id] ?? (await this.loadConversation(id));
    if (!conv) return;
    if (!this.threads.value[id]?.loaded) {
      this.threads.value = { ...this.threads.value, [id]: { ...EMPTY_THREAD, loading: true } };
      try {
        const page = await this.api.conversations.messages(id, { limit: PAGE });
        this.threads.value = { ...this.threads.value, [id]: withEvents(withPage(this.thread(id), page.items, PAGE, false), this.recentEvents.get(id) ?? []) };
        await this.ensureUsers(page.items.map((m) => m.senderId));
      } catch (err) {
        this.threads.value = { ...this.threads.value, [id]: { ...this.thread(id), loading: false } };
        return this.fail(err);
      }
    }
    void this.loadReceipts(id);
    void this.loadPresence(conv.members.map((m) => m.userId).filter((u) => u !== this.me.value?.id));
    this.markActiveRead();
  }

  close(id: string): void {
    if (this.activeId.value === id) this.activeId.value = null;
  }

  /** The page before the oldest message shown (scrolling up). */
  async loadOlder(id: string): Promise<void> {
    const t = this.thread(id);
    if (!t.loaded || t.loading || !t.hasMore) return;
    const oldest = t.messages[0]?.seq;
    if (oldest === undefined || oldest <= 1) {
      this.threads.value = { ...this.threads.value, [id]: { ...t, hasMore: false } };
      return;
    }
    this.threads.value = { ...this.threads.value, [id]: { ...t, loading: true } };
    try {
      const page = await this.api.conversations.messages(id, { beforeSeq: oldest, limit: PAGE });
      this.threads.value = { ...this.threads.value, [id]: withEvents(withPage(this.thread(id), page.items, PAGE, true), this.recentEvents.get(id) ?? []) };
      await this.ensureUsers(page.items.map((m) => m.senderId));
    } catch (err) {
      this.threads.value = { ...this.threads.value, [id]: { ...this.thread(id), loading: false } };
      this.fail(err);
    }
  }

  /** Who has read my last message: asked once on open, then kept by `receipt.read` frames. */
  private async loadReceipts(id: string): Promise<void> {
    const me = this.me.value?.id;
    const mine = me ? lastOwn(this.thread(id), me) : undefined;
    if (!mine) return;
    try {
      const r = await this.api.conversations.receipts(id, mine.seq);
      for (const userId of r.readBy) this.onRead(id, userId, mine.seq);
    } catch {
      /* read state is a nicety: the frames keep it from here on */
    }
  }

  /** Moves my read cursor to the end of the conversation on screen, if there is anything new and someone is looking. */
  markActiveRead(): void {
    const id = this.activeId.value;
    const conv = id ? this.conversations.value[id] : undefined;
    if (!conv || document.visibilityState !== 'visible') return;
    if (conv.unreadCount === 0 && conv.mentionCount === 0 && (this.reads.value[conv.id]?.[this.me.value?.id ?? ''] ?? -1) >= conv.lastSeq) return;
    const sent = this.socket?.read(conv.id, conv.lastSeq) ?? false;
    if (!sent) void this.api.conversations.read(conv.id, conv.lastSeq).catch(() => undefined);
    this.conversations.value = { ...this.conversations.value, [conv.id]: { ...conv, unreadCount: 0, mentionCount: 0 } };
    const me = this.me.value?.id;
    if (me) this.onReadLocal(conv.id, me, conv.lastSeq);
  }

  private onReadLocal(conversationId: string, userId: string, seq: number): void {
    const reads = this.reads.value[conversationId] ?? {};
    if ((reads[userId] ?? 0) < seq) this.reads.value = { ...this.reads.value, [conversationId]: { ...reads, [userId]: seq } };
  }

  // ── sending ─────────────────────────────────────────────────────────────

  /** A text message; shown at once as outgoing, replaced by the committed one. */
  async sendText(conversationId: string, text: string, extra: { replyToSeq?: number; mentions?: string[]; mentionAll?: boolean } = {}): Promise<void> {
    await this.sendComposed(conversationId, { msgType: 'text', content: text, ...extra });
  }

  /** A file message (image or file) for an uploaded file. */
  async sendFile(conversationId: string, file: { id: string; name: string; contentType: string; width?: number; height?: number }, replyToSeq?: number): Promise<void> {
    const image = /^image\/(png|jpeg|gif|webp)$/.test(file.contentType);
    const content: Record<string, string | number> = image ? {} : { name: file.name };
    if (image && file.width && file.height) Object.assign(content, { width: file.width, height: file.height });
    await this.sendComposed(conversationId, { msgType: image ? 'image' : 'file', content, fileId: file.id, ...(replyToSeq ? { replyToSeq } : {}) });
  }

  private async sendComposed(
    conversationId: string,
    msg: { msgType: Message['type']; content: NonNullable<Message['content']>; fileId?: string; replyToSeq?: number; mentions?: string[]; mentionAll?: boolean },
  ): Promise<void> {
    const socket = this.socket;
    const me = this.me.value;
    if (!socket || !me) return;
    const clientMsgId = randomId();
    const { msgType, ...rest } = msg;
    const outgoing = { clientMsgId, type: msgType, ...rest, createdAt: new Date().toISOString() };
    this.updateThread(conversationId, (t) => ({ ...t, outgoing: [...t.outgoing, outgoing] }));
    try {
      const ack = await socket.sendMessage({ conversationId, clientMsgId, ...msg });
      const message: Message = {
        id: ack.id, conversationId, seq: ack.seq, senderId: me.id, clientMsgId, type: msgType, content: msg.content,
        ...(msg.fileId ? { fileId: msg.fileId } : {}), ...(msg.replyToSeq ? { replyToSeq: msg.replyToSeq } : {}),
        ...(msg.mentions?.length ? { mentions: msg.mentions } : {}), ...(msg.mentionAll ? { mentionAll: true } : {}),
        createdAt: ack.createdAt,
      };
      this.onMessage(message);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'failed';
      this.updateThread(conversationId, (t) => ({ ...t, outgoing: t.outgoing.map((o) => (o.clientMsgId === clientMsgId ? { ...o, failed: code } : o)) }));
      this.fail(err);
    }
  }

  /** Forwards a message into another conversation of mine; false if it failed (the notice says why). */
  async forward(from: Message, toConversationId: string): Promise<boolean> {
    try {
      await this.socket?.sendMessage({ conversationId: toConversationId, forwardOf: { conversationId: from.conversationId, seq: from.seq } });
      // The ack carries no content: the target's copy comes from the server when it is next shown.
      const { [toConversationId]: _stale, ...rest } = this.threads.value;
      this.threads.value = rest;
      void this.loadConversation(toConversationId);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  async edit(m: Message, content: string): Promise<void> {
    await this.act(() => this.socket!.edit(m.conversationId, m.seq, content));
  }

  async recall(m: Message): Promise<void> {
    await this.act(() => this.socket!.recall(m.conversationId, m.seq));
  }

  async react(m: Message, emoji: string): Promise<void> {
    const on = !m.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(this.me.value?.id ?? ''));
    await this.act(() => this.socket!.react(m.conversationId, m.seq, emoji, on));
  }

  /** An action on a message; its event comes back as a frame like any other (onFrame applies it). */
  private async act(run: () => Promise<Event>): Promise<void> {
    if (!this.socket) return;
    try {
      await run();
    } catch (err) {
      this.fail(err);
    }
  }

  /** "I am typing", at most every 3 s per conversation. */
  typingNow(conversationId: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(conversationId) ?? 0) < 3000) return;
    if (this.socket?.typing(conversationId)) this.lastTypingSent.set(conversationId, now);
  }

  // ── people ──────────────────────────────────────────────────────────────

  async addFriend(userId: string): Promise<void> {
    const { request } = await this.api.friends.request(userId);
    if (request.status === 'accepted') await this.loadFriends();
    else this.outgoing.value = [request, ...this.outgoing.value];
  }

  async answer(request: FriendRequest, accept: boolean): Promise<void> {
    await (accept ? this.api.friends.accept(request.id) : this.api.friends.reject(request.id));
    this.incoming.value = this.incoming.value.filter((r) => r.id !== request.id);
    if (accept) await this.loadFriends();
  }

  async block(userId: string): Promise<void> {
    await this.api.users.block(userId);
    this.friends.value = this.friends.value.filter((f) => f.user.id !== userId);
    this.incoming.value = this.incoming.value.filter((r) => r.fromUserId !== userId);
  }

  /** The single conversation with a friend (created on first use). */
  async chatWith(userId: string): Promise<string> {
    const c = await this.api.conversations.create({ kind: 'single', peerId: userId });
    this.conversations.value = { ...this.conversations.value, [c.id]: this.conversations.value[c.id] ?? c };
    this.socket?.seed({ [c.id]: c.lastSeq });
    return c.id;
  }

  async createGroup(name: string, memberIds: string[]): Promise<string> {
    const c = await this.api.conversations.create({ kind: 'group', name, memberIds });
    this.conversations.value = { ...this.conversations.value, [c.id]: c };
    this.socket?.seed({ [c.id]: c.lastSeq });
    return c.id;
  }

  /** Group administration: each answers the conversation as it now is. */
  async changeGroup(id: string, run: (api: Api) => Promise<unknown>): Promise<void> {
    try {
      await run(this.api);
      await this.loadConversation(id);
    } catch (err) {
      this.fail(err);
    }
  }

  async leave(id: string): Promise<void> {
    try {
      await this.api.conversations.leave(id);
      const { [id]: _left, ...rest } = this.conversations.value;
      this.conversations.value = rest;
      if (this.activeId.value === id) this.activeId.value = null;
    } catch (err) {
      this.fail(err);
    }
  }

  // ── files ───────────────────────────────────────────────────────────────

  /** A signed URL of a file's content (for <img src> and downloads), reused until a minute before it expires. */
  async fileUrl(fileId: string): Promise<string> {
    const cached = this.fileUrls.get(fileId);
    if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.url;
    const { url, expiresAt } = await this.api.files.url(fileId);
    // Relative to the API's origin, which need not be the page's.
    const absolute = new URL(url, this.api.http.baseUrl || location.origin).toString();
    this.fileUrls.set(fileId, { url: absolute, expiresAt: Date.parse(expiresAt) });
    return absolute;
  }

  // ── notices ─────────────────────────────────────────────────────────────

  notify(text: string, kind: Notice['kind'] = 'error'): void {
    this.notice.value = { text, kind };
  }

  /** Shows what went wrong; a network failure is shown by the connection state instead. */
  fail(err: unknown): void {
    if (err instanceof ApiError && err.status === 0) return;
    this.notify(err instanceof Error ? err.message : String(err));
  }
}
