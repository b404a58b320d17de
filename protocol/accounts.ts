/** Request and response shapes of the account routes (API.md § Auth). */
import { z } from '@hono/zod-openapi';
import { LIMITS, Text, Timestamp, Uuid } from './common.ts';

export const Username = Text()
  .min(LIMITS.usernameMin)
  .max(LIMITS.usernameMax)
  .regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only')
  .openapi({ example: 'alice' });
export const Password = Text().min(LIMITS.passwordMin).max(LIMITS.passwordMax).openapi({ example: 'correct horse battery' });
export const Email = z.email().max(254).openapi({ example: 'alice@example.com' });
export const Code = Text().regex(/^\d{6}$/, '6 digits').openapi({ example: '123456' });
export const Nickname = Text().trim().min(1).max(LIMITS.nicknameMax);
export const DeviceId = Text().min(1).max(64).regex(/^[\w.:-]+$/);
/** A one-time WebSocket ticket from `POST /auth/ws-ticket`, as a query parameter. */
export const Ticket = Text().max(128);
export const CodePurpose = z.enum(['register', 'reset_password']);

export const User = z
  .object({
    id: Uuid,
    username: z.string(),
    nickname: z.string(),
    email: z.email().optional().openapi({ description: 'Only shown to its owner' }),
    avatarFileId: Uuid.optional(),
    bio: z.string().optional(),
    isBot: z.literal(true).optional().openapi({ description: 'Present (true) only for bots' }),
    createdAt: Timestamp,
  })
  .openapi('User');

export const SendCodeBody = z.strictObject({ email: Email, purpose: CodePurpose }).openapi('SendCodeBody');
export const SendCodeResponse = z.object({ expiresIn: z.number().int().openapi({ description: 'Seconds' }) }).openapi('SendCodeResponse');

export const RegisterBody = z
  .strictObject({ username: Username, password: Password, email: Email.optional(), code: Code.optional(), nickname: Nickname.optional() })
  .refine((b) => !b.email || b.code, { message: 'code is required when email is given', path: ['code'] })
  .openapi('RegisterBody');

export const LoginBody = z
  .strictObject({ login: Text().min(1).max(254), password: Text().min(1).max(LIMITS.passwordMax), deviceId: DeviceId.optional() })
  .openapi('LoginBody');

export const Tokens = z
  .object({ accessToken: z.string(), refreshToken: z.string(), expiresIn: z.number().int().openapi({ description: 'Seconds the access token is valid' }) })
  .openapi('Tokens');
export const AuthResponse = Tokens.extend({ user: User }).openapi('AuthResponse');

export const RefreshBody = z.strictObject({ refreshToken: Text().min(1).max(512) }).openapi('RefreshBody');
export const EmptyBody = z.strictObject({});
export const ChangePasswordBody = z.strictObject({ oldPassword: Text().min(1).max(LIMITS.passwordMax), newPassword: Password }).openapi('ChangePasswordBody');
export const ResetPasswordBody = z.strictObject({ email: Email, code: Code, newPassword: Password }).openapi('ResetPasswordBody');
export const TicketResponse = z.object({ ticket: z.string(), expiresIn: z.number().int().openapi({ description: 'Seconds' }) }).openapi('TicketResponse');
