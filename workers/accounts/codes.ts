/**
 * Email verification codes: 6 random digits, valid 5 minutes, single use,
 * at most 5 tries. Only an HMAC of the code is stored.
 */
import { and, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { emailCodes } from '../../db/schema.ts';
import { ApiError } from '../errors.ts';
import { hex, uuidv7 } from '../../lib/ids.ts';
import type { Database, Tx } from '../../services/db.ts';

export const CODE_TTL_SECONDS = 300;
export const MAX_ATTEMPTS = 5;
export type CodePurpose = 'register' | 'reset_password';

/** A uniformly random 6-digit string (rejection sampling: no modulo bias). */
function sixDigits(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    const x = crypto.getRandomValues(buf)[0]!;
    if (x < 4_294_000_000) return String(x % 1_000_000).padStart(6, '0');
  }
}

async function codeHash(env: Env, id: string, code: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(env.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`email-code:${id}:${code}`));
  return hex(mac);
}

/** Creates a new code for (email, purpose); older unused ones stop counting. */
export async function issueCode(db: Database, env: Env, email: string, purpose: CodePurpose): Promise<string> {
  const id = uuidv7();
  const code = sixDigits();
  await db.insert(emailCodes).values({
    id,
    email: email.toLowerCase(),
    purpose,
    codeHash: await codeHash(env, id, code),
    expiresAt: new Date(Date.now() + CODE_TTL_SECONDS * 1000),
  });
  return code;
}

/**
 * Checks `code` against the newest live code for (email, purpose). Every
 * check spends one of the code's tries first, in one conditional UPDATE, and
 * only a check that got a try compares: concurrent guesses cannot overrun
 * the limit, and a right code arriving after the tries are spent fails like a
 * wrong one. Returns the code's id for `consumeCode`, which the caller runs
 * inside the transaction that acts on it, so a failed registration does not
 * burn the code (it still cost one try).
 */
export async function checkCode(db: Database, env: Env, email: string, purpose: CodePurpose, code: string): Promise<string> {
  const newest = db
    .select({ id: emailCodes.id })
    .from(emailCodes)
    .where(and(sql`lower(${emailCodes.email}) = ${email.toLowerCase()}`, eq(emailCodes.purpose, purpose)))
    .orderBy(desc(emailCodes.createdAt))
    .limit(1);
  const [tried] = await db
    .update(emailCodes)
    .set({ attempts: sql`${emailCodes.attempts} + 1` })
    .where(
      and(
        eq(emailCodes.id, sql`(${newest})`),
        lt(emailCodes.attempts, MAX_ATTEMPTS),
        isNull(emailCodes.consumedAt),
        gt(emailCodes.expiresAt, sql`now()`),
      ),
    )
    .returning({ id: emailCodes.id, codeHash: emailCodes.codeHash });
  if (!tried || (await codeHash(env, tried.id, code)) !== tried.codeHash) {
    throw new ApiError('invalid_code', 'The code is wrong, expired or already used');
  }
  return tried.id;
}

/** Marks the code used; a concurrent use of the same code loses. */
export async function consumeCode(tx: Tx, codeId: string): Promise<void> {
  const [used] = await tx
    .update(emailCodes)
    .set({ consumedAt: sql`now()` })
    .where(and(eq(emailCodes.id, codeId), isNull(emailCodes.consumedAt)))
    .returning({ id: emailCodes.id });
  if (!used) throw new ApiError('invalid_code', 'The code is wrong, expired or already used');
}
