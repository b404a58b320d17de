/** Request and response shapes of push subscriptions and user settings (API.md § Push notifications). */
import { z } from '@hono/zod-openapi';
import { DeviceId } from './accounts.ts';
import { Text } from './common.ts';
import { page } from './social.ts';

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    // ⌈4n/3⌉ characters unpadded: a cheap length check before the bytes are decoded (services/push/keys.ts).
    .refine((s) => s.replace(/=+$/, '').length === Math.ceil((bytes * 4) / 3), { message: `must be ${bytes} bytes (${what})` });

export const WebPushSubscriptionBody = z
  .strictObject({
    deviceId: DeviceId,
    kind: z.literal('webpush'),
    endpoint: Text().min(1).max(2048).openapi({ description: 'The push resource: `https` on a public host', example: 'https://fcm.googleapis.com/fcm/send/dpH5…' }),
    keys: z.strictObject({
      p256dh: base64url(65, 'an uncompressed P-256 point').openapi({ description: 'base64url of the 65-byte uncompressed P-256 public key' }),
      auth: base64url(16, 'the auth secret').openapi({ description: 'base64url of the 16-byte auth secret' }),
    }),
    /** Browsers' `PushSubscription.toJSON()` includes it; accepted and ignored. */
    expirationTime: z.number().nullable().optional(),
  })
  .openapi('WebPushSubscriptionBody');

export const FcmSubscriptionBody = z
  .strictObject({
    deviceId: DeviceId,
    kind: z.literal('fcm'),
    token: z.string().min(1).max(1024).regex(/^[\w:.-]+$/, 'not an FCM registration token').openapi({ description: 'The FCM registration token of the app instance' }),
  })
  .openapi('FcmSubscriptionBody');

export const SubscriptionBody = z.discriminatedUnion('kind', [WebPushSubscriptionBody, FcmSubscriptionBody]).openapi('PushSubscriptionBody');
export type SubscriptionBody = z.infer<typeof SubscriptionBody>;

export const Subscription = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    kind: z.enum(['webpush', 'fcm']),
    createdAt: z.string().openapi({ example: '2026-11-22T04:55:00.123Z' }),
  })
  .openapi('PushSubscription');
export type Subscription = z.infer<typeof Subscription>;

export const SubscriptionPage = page(Subscription).openapi('PushSubscriptionPage');

export const VapidPublicKey = z.object({ publicKey: z.string().openapi({ description: 'base64url, for `PushManager.subscribe({applicationServerKey})`' }) });

export const Settings = z.object({ pushPreviews: z.boolean() }).openapi('UserSettings');
export type Settings = z.infer<typeof Settings>;

export const SettingsPatch = z.strictObject({ pushPreviews: z.boolean().optional() }).openapi('UserSettingsPatch');
