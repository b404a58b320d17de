/**
 * Per-user settings. A user without a row has the defaults, so reading never
 * writes and the push job reads one row (or none) per recipient.
 */
import { eq, sql } from 'drizzle-orm';
import { userSettings } from '../db/schema.ts';
import type { Db as Database } from '../db/client.ts';

export interface UserSettings {
  /** Pushes carry up to 100 characters of the message (`preview`); off, only sender and conversation. */
  pushPreviews: boolean;
}

export const DEFAULT_SETTINGS: UserSettings = { pushPreviews: true };

export async function settingsOf(db: Database, userId: string): Promise<UserSettings> {
  const [row] = await db.select({ pushPreviews: userSettings.pushPreviews }).from(userSettings).where(eq(userSettings.userId, userId)).limit(1);
  return row ?? DEFAULT_SETTINGS;
}

/** Whether `userId`'s pushes may carry a preview of the message text. */
export async function pushPreviewsOf(db: Database, userId: string): Promise<boolean> {
  return (await settingsOf(db, userId)).pushPreviews;
}

/** Applies `patch` (absent keys stay as they are) and returns the settings now in force. */
export async function updateSettings(db: Database, userId: string, patch: Partial<UserSettings>, now: Date): Promise<UserSettings> {
  if (patch.pushPreviews === undefined) return settingsOf(db, userId);
  const [row] = await db
    .insert(userSettings)
    .values({ userId, pushPreviews: patch.pushPreviews, updatedAt: now })
    .onConflictDoUpdate({ target: userSettings.userId, set: { pushPreviews: sql`excluded.push_previews`, updatedAt: now } })
    .returning({ pushPreviews: userSettings.pushPreviews });
  return row!;
}
