/** Who may do what in a group, and who inherits it: pure rules, no I/O. */
import type { Role } from '../../durable-objects/contracts.ts';

export interface MemberRow {
  userId: string;
  role: Role;
  joinedAt: Date;
}

/** Owners and admins manage a group: its details and its members. */
export function canManage(role: Role): boolean {
  return role === 'owner' || role === 'admin';
}

/** The owner removes anyone else; an admin removes plain members only. */
export function canRemove(actor: Role, target: Role): boolean {
  if (actor === 'owner') return target !== 'owner';
  return actor === 'admin' && target === 'member';
}

/**
 * Who becomes owner when the owner leaves: the longest-standing admin, else
 * the longest-standing member (`joinedAt`, then `userId` to break ties).
 * `remaining` excludes the leaving owner; undefined when nobody is left.
 */
export function nextOwner(remaining: MemberRow[]): MemberRow | undefined {
  const seniority = (a: MemberRow, b: MemberRow) =>
    a.joinedAt.getTime() - b.joinedAt.getTime() || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
  const admins = remaining.filter((m) => m.role === 'admin').sort(seniority);
  return admins[0] ?? [...remaining].sort(seniority)[0];
}
