/**
 * UI strings in English and Simplified Chinese, chosen by the browser's
 * language. Accessible names are always the English ones (`label`): they are
 * the contract the tests select by (API.md § Web client), so a Chinese UI
 * shows Chinese text under the same `aria-label`s.
 */
const en = {
  appName: 'Beehive',
  usernameOrEmail: 'Username or email',
  password: 'Password',
  signIn: 'Sign in',
  createAccount: 'Create account',
  username: 'Username',
  email: 'Email',
  code: 'Code',
  sendCode: 'Send code',
  codeSent: 'A code was sent to {email}',
  nickname: 'Nickname',
  register: 'Register',
  backToSignIn: 'Back to sign in',
  optional: 'optional',
  conversations: 'Conversations',
  noConversations: 'No conversations yet: message a friend or create a group.',
  signOut: 'Sign out',
  searchUsers: 'Search users',
  userResults: 'Users found',
  noUsers: 'No one found',
  addFriend: 'Add friend',
  requestSent: 'Request sent',
  friendRequests: 'Friend requests',
  wantsToBeFriends: '{name} wants to be friends',
  accept: 'Accept',
  reject: 'Reject',
  friends: 'Friends',
  noFriends: 'No friends yet: search for someone above.',
  message: 'Message',
  block: 'Block',
  blocked: '{name} is blocked',
  newGroup: 'New group',
  groupName: 'Group name',
  chooseMembers: 'Members',
  create: 'Create',
  cancel: 'Cancel',
  close: 'Close',
  messages: 'Messages',
  send: 'Send',
  attachFile: 'Attach file',
  uploadProgress: 'Upload progress',
  uploading: 'Uploading {name}…',
  messageActions: 'Message actions',
  edit: 'Edit',
  recall: 'Recall',
  react: 'React',
  reply: 'Reply',
  forward: 'Forward',
  editMessage: 'Edit message',
  save: 'Save',
  recalled: 'This message was recalled',
  expired: 'This message has expired',
  edited: 'edited',
  forwarded: 'Forwarded',
  replyingTo: 'Replying to {name}',
  cancelReply: 'Cancel reply',
  forwardTo: 'Forward to',
  seenBy: 'Seen by {names}',
  isTyping: '{name} is typing',
  areTyping: '{names} are typing',
  online: 'online',
  lastSeen: 'last seen {time}',
  neverSeen: 'offline',
  connectionOffline: 'Offline',
  connectionConnecting: 'Connecting…',
  connectionOnline: 'Online',
  searchMessages: 'Search messages',
  searchResults: 'Search results',
  noHits: 'No messages found',
  loadingOlder: 'Loading older messages…',
  startOfConversation: 'The start of the conversation',
  pickConversation: 'Pick a conversation, or message a friend.',
  back: 'Back',
  groupInfo: 'Group info',
  members: 'Members',
  membersCount: '{n} members',
  addMembers: 'Add members',
  add: 'Add',
  remove: 'Remove',
  makeAdmin: 'Make admin',
  makeMember: 'Make member',
  leaveGroup: 'Leave group',
  rename: 'Rename',
  announcement: 'Announcement',
  saveAnnouncement: 'Save announcement',
  owner: 'owner',
  admin: 'admin',
  member: 'member',
  you: 'you',
  mentionsYou: 'mentions you',
  unread: '{n} unread',
  notifications: 'Enable notifications',
  notificationsOn: 'Notifications are on',
  notificationsUnavailable: 'Notifications are not available in this browser',
  notificationsDenied: 'Notifications were not allowed',
  image: 'Image',
  file: 'File',
  voice: 'Voice message',
  download: 'Download {name}',
  somethingWrong: 'Something went wrong: {message}',
} as const;

export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  appName: '蜂巢',
  usernameOrEmail: '用户名或邮箱',
  password: '密码',
  signIn: '登录',
  createAccount: '创建账号',
  username: '用户名',
  email: '邮箱',
  code: '验证码',
  sendCode: '发送验证码',
  codeSent: '验证码已发送至 {email}',
  nickname: '昵称',
  register: '注册',
  backToSignIn: '返回登录',
  optional: '可选',
  conversations: '会话',
  noConversations: '还没有会话：给好友发消息或创建群聊。',
  signOut: '退出登录',
  searchUsers: '搜索用户',
  userResults: '找到的用户',
  noUsers: '没有找到用户',
  addFriend: '加好友',
  requestSent: '已发送请求',
  friendRequests: '好友请求',
  wantsToBeFriends: '{name} 想加你为好友',
  accept: '接受',
  reject: '拒绝',
  friends: '好友',
  noFriends: '还没有好友：在上方搜索用户。',
  message: '发消息',
  block: '拉黑',
  blocked: '已拉黑 {name}',
  newGroup: '新建群聊',
  groupName: '群名称',
  chooseMembers: '成员',
  create: '创建',
  cancel: '取消',
  close: '关闭',
  messages: '消息',
  send: '发送',
  attachFile: '添加附件',
  uploadProgress: '上传进度',
  uploading: '正在上传 {name}…',
  messageActions: '消息操作',
  edit: '编辑',
  recall: '撤回',
  react: '回应',
  reply: '回复',
  forward: '转发',
  editMessage: '编辑消息',
  save: '保存',
  recalled: '此消息已撤回',
  expired: '此消息已过期',
  edited: '已编辑',
  forwarded: '转发',
  replyingTo: '回复 {name}',
  cancelReply: '取消回复',
  forwardTo: '转发给',
  seenBy: '{names} 已读',
  isTyping: '{name} 正在输入',
  areTyping: '{names} 正在输入',
  online: '在线',
  lastSeen: '最后在线 {time}',
  neverSeen: '离线',
  connectionOffline: '离线',
  connectionConnecting: '连接中…',
  connectionOnline: '在线',
  searchMessages: '搜索消息',
  searchResults: '搜索结果',
  noHits: '没有找到消息',
  loadingOlder: '正在加载更早的消息…',
  startOfConversation: '会话的开始',
  pickConversation: '选择一个会话，或给好友发消息。',
  back: '返回',
  groupInfo: '群信息',
  members: '成员',
  membersCount: '{n} 位成员',
  addMembers: '添加成员',
  add: '添加',
  remove: '移除',
  makeAdmin: '设为管理员',
  makeMember: '取消管理员',
  leaveGroup: '退出群聊',
  rename: '改名',
  announcement: '群公告',
  saveAnnouncement: '保存公告',
  owner: '群主',
  admin: '管理员',
  member: '成员',
  you: '你',
  mentionsYou: '有人@你',
  unread: '{n} 条未读',
  notifications: '开启通知',
  notificationsOn: '通知已开启',
  notificationsUnavailable: '此浏览器不支持通知',
  notificationsDenied: '通知未被允许',
  image: '图片',
  file: '文件',
  voice: '语音消息',
  download: '下载 {name}',
  somethingWrong: '出错了：{message}',
};

/** The UI language: Simplified Chinese for `zh*` browsers, English otherwise. */
export const lang: 'en' | 'zh' = (globalThis.navigator?.languages?.[0] ?? globalThis.navigator?.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';

function fill(s: string, vars?: Record<string, string | number>): string {
  return vars ? s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? '')) : s;
}

/** Visible text, in the UI language. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  return fill(lang === 'zh' ? zh[key] : en[key], vars);
}

/** An accessible name: always English, whatever the UI language (the contract of API.md § Web client). */
export function label(key: Key, vars?: Record<string, string | number>): string {
  return fill(en[key], vars);
}

/** Both at once, for elements whose name is their text: `<button {...named('send')} />`. */
export function named(key: Key, vars?: Record<string, string | number>): { 'aria-label': string; children: string } {
  return { 'aria-label': label(key, vars), children: t(key, vars) };
}

const timeFormat = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** A time of day today, a day and time otherwise. */
export function formatTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  return d.toDateString() === now.toDateString() ? timeFormat.format(d) : dayFormat.format(d);
}

/** The words a one-line message preview uses (state/conversations.ts previewOf). */
export function previewLabels(): { recalled: string; expired: string; image: string; file: string; voice: string } {
  return { recalled: t('recalled'), expired: t('expired'), image: t('image'), file: t('file'), voice: t('voice') };
}
