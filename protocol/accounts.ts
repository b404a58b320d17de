/** Request and response shapes of the account routes (API.md § Auth). */
import { z } from '@hono/zod-openapi';
import { LIMITS } from './common.ts';

export const Username = z
  .string()
  .min(LIMITS.usernameMin)
  .max(LIMITS.usernameMax)
  .regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only')
  .openapi({ example: 'alice' });
export const Password = z.string().min(LIMITS.passwordMin).max(LIMITS.passwordMax).openapi({ example: 'correct horse battery' });
export const Email = z.email().max(254).openapi({ example: 'alice@example.com' });
export const Code = z.string().regex(/^\d{6}$/, '6 digits').openapi({ example: '123456' });
export const Nickname = z.string().trim().min(1).max(LIMITS.nicknameMax);
export const DeviceId = z.string().min(1).max(64).regex(/^[\w.:-]+$/);
export const CodePurpose = z.enum(['register', 'reset_password']);

export const User = z
  .object({
    id: z.string(),
    username: z.string(),
    nickname: z.string(),
    email: z.string().optional().openapi({ description: 'Only shown to its owner' }),
    avatarFileId: z.string().optional(),
    bio: z.string().optional(),
    isBot: z.literal(true).optional().openapi({ description: 'Present (true) only for bots' }),
    createdAt: z.string().openapi({ example: '2026-11-22T04:55:00.123Z' }),
  })
  .openapi('User');

export const SendCodeBody = z.strictObject({ email: Email, purpose: CodePurpose }).openapi('SendCodeBody');
export const SendCodeResponse = z.object({ expiresIn: z.number().int() });

export const RegisterBody = z
  .strictObject({ username: Username, password: Password, email: Email.optional(), code: Code.optional(), nickname: Nickname.optional() })
  .refine((b) => !b.email || b.code, { message: 'code is required when email is given', path: ['code'] })
  .openapi('RegisterBody');

export const LoginBody = z
  .strictObject({ login: z.string().min(1).max(254), password: z.string().min(1).max(LIMITS.passwordMax), deviceId: DeviceId.optional() })
  .openapi('LoginBody');

export const Tokens = z.object({ accessToken: z.string(), refreshToken: z.string(), expiresIn: z.number().int() }).openapi('Tokens');
export const AuthResponse = Tokens.extend({ user: User }).openapi('AuthResponse');

export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi('RefreshBody');
export const EmptyBody = z.strictObject({});
export const ChangePasswordBody = z.strictObject({ oldPassword: z.string().min(1).max(LIMITS.passwordMax), newPassword: Password });
export const ResetPasswordBody = z.strictObject({ email: Email, code: Code, newPassword: Password });
export const TicketResponse = z.object({ ticket: z.string(), expiresIn: z.number().int() });
