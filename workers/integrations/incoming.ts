/**
 * Incoming webhooks in Postgres. A hook's URL is `…/api/v1/hooks/<id>.<secret>`:
 * the URL is the credential, so only the secret's SHA-256 is stored and a
 * lookup compares hashes. Each hook posts as its own bot user, owned by the
 * hook's creator and a member of the conversation.
 */
import { and, asc, count, eq } from 'drizzle-orm';
import { incomingWebhooks } from '../../db/schema.ts';
import { randomToken, sha256Hex, uuidv7 } from '../../lib/ids.ts';
import type { Database } from '../../services/db.ts';

export type IncomingRow = typeof incomingWebhooks.$inferSelect;

/** Per conversation: each is a bot member. */
export const MAX_INCOMING = 10;

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{32,64})$/;

export function hookUrl(env: Env, id: string, secret: string): string {
  return `${env.PUBLIC_URL}/api/v1/hooks/${id}.${secret}`;
}

export async function countIncoming(db: Database, conversationId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(incomingWebhooks).where(eq(incomingWebhooks.conversationId, conversationId));
  return row?.n ?? 0;
}

export async function insertIncoming(db: Database, h: { conversationId: string; botId: string; name: string; createdBy: string }): Promise<{ row: IncomingRow; secret: string }> {
  const secret = randomToken(32);
  const [row] = await db.insert(incomingWebhooks).values({ id: uuidv7(), ...h, secretHash: await sha256Hex(secret) }).returning();
  return { row: row!, secret };
}

export async function listIncoming(db: Database, conversationId: string): Promise<IncomingRow[]> {
  return db.select().from(incomingWebhooks).where(eq(incomingWebhooks.conversationId, conversationId)).orderBy(asc(incomingWebhooks.id));
}

/** Deletes the hook of this conversation; returns it, or undefined if there was none. */
export async function deleteIncoming(db: Database, conversationId: string, id: string): Promise<IncomingRow | undefined> {
  const [row] = await db.delete(incomingWebhooks).where(and(eq(incomingWebhooks.id, id), eq(incomingWebhooks.conversationId, conversationId))).returning();
  return row;
}

/** The hook a URL token names, if it exists and the secret matches. */
export async function hookForToken(db: Database, token: string): Promise<IncomingRow | undefined> {
  const m = TOKEN.exec(token);
  if (!m) return undefined;
  const [row] = await db.select().from(incomingWebhooks).where(eq(incomingWebhooks.id, m[1]!)).limit(1);
  return row && row.secretHash === (await sha256Hex(m[2]!)) ? row : undefined;
}

export function incomingView(r: IncomingRow) {
  return { id: r.id, name: r.name, botId: r.botId, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() };
}
