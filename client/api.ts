/**
 * The REST API of API.md as typed methods, one group per resource. A thin
 * layer over `HttpClient`: paths, bodies and the types of `protocol/`.
 * (`hc<AppType>` from hono/client was the first choice, but the app's route
 * types reach into the Worker and its Durable Objects, which need the
 * Workers runtime types: a DOM-only project cannot compile them.)
 */
import { HttpClient, type HttpOptions } from './http.ts';
import type {
  AuthResponse,
  CodePurpose,
  Content,
  Conversation,
  CreateConversationBody,
  Event,
  FileView,
  Friend,
  FriendRequest,
  LoginBody,
  Message,
  MsgType,
  Page,
  PatchConversationBody,
  Presence,
  ProfilePatch,
  Receipts,
  RegisterBody,
  Role,
  SearchHit,
  SearchQuery,
  Settings,
  StreamItem,
  Subscription,
  SubscriptionBody,
  Tokens,
  User,
} from './types.ts';

/** What `POST /conversations/:id/messages` takes: a composed message or a forward. */
export type SendInput =
  | { clientMsgId: string; type: MsgType; content: Content; fileId?: string; replyToSeq?: number; mentions?: string[]; mentionAll?: boolean }
  | { clientMsgId: string; forwardOf: { conversationId: string; seq: number } };

const seg = encodeURIComponent;

/** The typed REST client. `api.http` is the layer below, with the session's tokens. */
export function createApi(opts: HttpOptions = {}) {
  const http = new HttpClient(opts);
  const get = <T>(path: string, query?: Record<string, string | number | boolean | undefined>) => http.request<T>('GET', path, { query });
  const post = <T>(path: string, body: unknown = {}) => http.request<T>('POST', path, { body });
  const patch = <T>(path: string, body: unknown) => http.request<T>('PATCH', path, { body });
  const put = <T>(path: string, body?: unknown) => http.request<T>('PUT', path, { body });
  const del = <T = void>(path: string) => http.request<T>('DELETE', path);
  const publicPost = <T>(path: string, body: unknown) => http.request<T>('POST', path, { body, auth: false });

  /** Signing in stores the tokens: every later call is made as that user. */
  const signedIn = (r: AuthResponse): AuthResponse => {
    http.tokens.set({ accessToken: r.accessToken, refreshToken: r.refreshToken, expiresIn: r.expiresIn });
    return r;
  };

  return {
    http,
    auth: {
      sendCode: (email: string, purpose: CodePurpose) => publicPost<{ expiresIn: number }>('/auth/send-code', { email, purpose }),
      register: async (body: RegisterBody) => signedIn(await publicPost<AuthResponse>('/auth/register', body)),
      login: async (body: LoginBody) => signedIn(await publicPost<AuthResponse>('/auth/login', body)),
      refresh: () => http.refresh(),
      /** Revokes the session on the server (best effort) and forgets the tokens here either way. */
      logout: async () => {
        try {
          await post<void>('/auth/logout');
        } finally {
          http.tokens.set(null);
        }
      },
      changePassword: (oldPassword: string, newPassword: string) => post<void>('/auth/password', { oldPassword, newPassword }),
      resetPassword: (email: string, code: string, newPassword: string) => publicPost<void>('/auth/reset-password', { email, code, newPassword }),
      wsTicket: () => post<{ ticket: string; expiresIn: number }>('/auth/ws-ticket'),
      get tokens(): Tokens | null {
        return http.tokens.get();
      },
    },
    users: {
      me: () => get<User>('/users/me'),
      updateMe: (p: ProfilePatch) => patch<User>('/users/me', p),
      get: (id: string) => get<User>(`/users/${seg(id)}`),
      /** Profiles of up to 100 users; unknown ids are left out. */
      many: (ids: string[]) => get<Page<User>>('/users', { ids: ids.join(',') }),
      search: (q: string, page: { limit?: number; cursor?: string } = {}) => get<Page<User>>('/users/search', { q, ...page }),
      block: (id: string) => post<void>(`/users/${seg(id)}/block`),
      unblock: (id: string) => del(`/users/${seg(id)}/block`),
      settings: () => get<Settings>('/users/me/settings'),
      updateSettings: (s: Partial<Settings>) => patch<Settings>('/users/me/settings', s),
    },
    friends: {
      list: (page: { limit?: number; cursor?: string } = {}) => get<Page<Friend>>('/friends', page),
      remove: (userId: string) => del(`/friends/${seg(userId)}`),
      request: (toUserId: string, message?: string) => post<{ request: FriendRequest }>('/friends/requests', { toUserId, ...(message ? { message } : {}) }),
      requests: (direction: 'incoming' | 'outgoing', page: { limit?: number; cursor?: string } = {}) => get<Page<FriendRequest>>('/friends/requests', { direction, ...page }),
      accept: (id: string) => post<{ request: FriendRequest }>(`/friends/requests/${seg(id)}/accept`),
      reject: (id: string) => post<{ request: FriendRequest }>(`/friends/requests/${seg(id)}/reject`),
    },
    conversations: {
      list: (page: { limit?: number; cursor?: string } = {}) => get<Page<Conversation>>('/conversations', page),
      get: (id: string) => get<Conversation>(`/conversations/${seg(id)}`),
      create: (body: CreateConversationBody) => post<Conversation>('/conversations', body),
      update: (id: string, body: PatchConversationBody) => patch<Conversation>(`/conversations/${seg(id)}`, body),
      addMembers: (id: string, userIds: string[]) => post<Conversation>(`/conversations/${seg(id)}/members`, { userIds }),
      removeMember: (id: string, userId: string) => del<Conversation>(`/conversations/${seg(id)}/members/${seg(userId)}`),
      setRole: (id: string, userId: string, role: Exclude<Role, 'owner'>) => patch<Conversation>(`/conversations/${seg(id)}/members/${seg(userId)}`, { role }),
      leave: (id: string) => post<void>(`/conversations/${seg(id)}/leave`),
      setMuted: (id: string, muted: boolean) => put<{ muted: boolean }>(`/conversations/${seg(id)}/settings`, { muted }),
      /** Ascending by seq: the newest `limit` below `beforeSeq` (or the newest of all), or the oldest above `afterSeq`. */
      messages: (id: string, q: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}) => get<Page<Message>>(`/conversations/${seg(id)}/messages`, q),
      send: (id: string, input: SendInput) => post<Message>(`/conversations/${seg(id)}/messages`, input),
      read: (id: string, seq: number) => post<void>(`/conversations/${seg(id)}/read`, { seq }),
      events: (id: string, q: { afterSeq?: number; limit?: number } = {}) => get<{ items: StreamItem[]; lastSeq: number }>(`/conversations/${seg(id)}/events`, q),
      edit: (id: string, seq: number, content: string) => patch<Event>(`/conversations/${seg(id)}/messages/${seq}`, { content }),
      recall: (id: string, seq: number) => post<Event>(`/conversations/${seg(id)}/messages/${seq}/recall`),
      react: (id: string, seq: number, emoji: string, on: boolean) =>
        on ? put<Event>(`/conversations/${seg(id)}/messages/${seq}/reactions/${seg(emoji)}`) : del<Event>(`/conversations/${seg(id)}/messages/${seq}/reactions/${seg(emoji)}`),
      receipts: (id: string, seq: number) => get<Receipts>(`/conversations/${seg(id)}/messages/${seq}/receipts`),
    },
    files: {
      get: (id: string) => get<FileView>(`/files/${seg(id)}`),
      /** A signed URL of the content, valid 5 minutes, needing no header (for `<img src>`). */
      url: (id: string) => get<{ url: string; expiresAt: string }>(`/files/${seg(id)}/url`),
      remove: (id: string) => del(`/files/${seg(id)}`),
    },
    search: {
      messages: (q: SearchQuery) => get<Page<SearchHit>>('/search/messages', { ...q }),
    },
    presence: {
      query: (userIds: string[]) => post<{ presence: Record<string, Presence> }>('/presence/query', { userIds }),
    },
    push: {
      vapidPublicKey: () => http.request<{ publicKey: string }>('GET', '/push/vapid-public-key', { auth: false }),
      subscribe: (body: SubscriptionBody) => post<Subscription>('/push/subscriptions', body),
      subscriptions: () => get<Page<Subscription>>('/push/subscriptions'),
      unsubscribe: (id: string) => del(`/push/subscriptions/${seg(id)}`),
    },
  };
}

export type Api = ReturnType<typeof createApi>;
