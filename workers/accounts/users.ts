/** Users in Postgres and the public view of them (API.md `user`). */
import { eq, or, sql } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import type { Database } from '../../services/db.ts';

export type UserRow = typeof users.$inferSelect;

export interface UserView {
  id: string;
  username: string;
  nickname: string;
  email?: string;
  avatarFileId?: string;
  bio?: string;
  /** Only for bots. */
  isBot?: true;
  createdAt: string;
}

/** The columns a user's API view is made of (never the password hash or a bot's secrets). */
export type PublicRow = Pick<UserRow, 'id' | 'username' | 'email' | 'nickname' | 'avatarFileId' | 'bio' | 'isBot' | 'createdAt'>;

/** The API shape of a user; `email` only when the viewer is the user. */
export function userView(row: PublicRow, viewerId?: string): UserView {
  return {
    id: row.id,
    username: row.username,
    nickname: row.nickname,
    ...(row.email && viewerId === row.id ? { email: row.email } : {}),
    ...(row.avatarFileId ? { avatarFileId: row.avatarFileId } : {}),
    ...(row.bio ? { bio: row.bio } : {}),
    ...(row.isBot ? { isBot: true as const } : {}),
    createdAt: row.createdAt.toISOString(),
  };
}

/** `login` is a username or an email, matched case-insensitively. */
export async function findByLogin(db: Database, login: string): Promise<UserRow | undefined> {
  const lower = login.toLowerCase();
  const [row] = await db
    .select()
    .from(users)
    .where(or(sql`lower(${users.username}) = ${lower}`, sql`lower(${users.email}) = ${lower}`))
    .limit(1);
  return row;
}

export async function findByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`).limit(1);
  return row;
}

export async function findById(db: Database, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/** Which unique constraint a Postgres error violated, if it is a unique violation. */
export function uniqueViolation(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const pg = e as { code?: string; constraint?: string };
    if (pg.code === '23505') return pg.constraint ?? 'unknown';
  }
  return undefined;
}
