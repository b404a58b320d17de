/**
 * The search job (QStash → /internal/jobs/search): make the index hold what
 * the ConversationDO says now for these messages — a record for a live one
 * (its current text), none for a recalled or expired one. QStash delivers at
 * least once, in parallel and out of order; writing the current state (never
 * the job's) makes a repeat harmless, and a second look at the versions after
 * the write catches a change that raced it: a stale write is followed by the
 * fresh one, by this job or by the job of that change.
 */
import { deleteRecords, messageObjectID, saveRecords, searchConfig } from '../../services/search.ts';

export interface SearchJob {
  conversationId: string;
  seqs: number[];
}

const ROUNDS = 3;

export async function runSearchJob(env: Env, job: SearchJob): Promise<{ saved: number; deleted: number }> {
  const cfg = searchConfig(env);
  const stub = env.CONVERSATIONS.getByName(job.conversationId);
  let seqs = [...new Set(job.seqs)];
  let saved = 0;
  let deleted = 0;
  for (let round = 0; round < ROUNDS && seqs.length; round++) {
    const state = (await stub.searchState(seqs)).filter((s) => s.held);
    const records = state.flatMap((s) => (s.record ? [s.record] : []));
    const gone = state.filter((s) => !s.record).map((s) => messageObjectID(job.conversationId, s.seq));
    if (records.length) await saveRecords(cfg, records);
    if (gone.length) await deleteRecords(cfg, gone);
    saved += records.length;
    deleted += gone.length;
    const now = await stub.searchState(state.map((s) => s.seq));
    seqs = now.filter((s, i) => s.version !== state[i]!.version).map((s) => s.seq);
  }
  return { saved, deleted };
}
