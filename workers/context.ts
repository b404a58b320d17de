/** The typed Hono environment shared by every router and middleware. */
import type { Logger } from '../lib/log.ts';
import type { RequestDb } from '../services/db.ts';

export interface AuthContext {
  userId: string;
  /** For a bot's token: `bot:<id>` (bots have no sessions; they cannot use /auth/*). */
  sessionId: string;
  isBot?: true;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    log: Logger;
    /** Postgres for this request, opened on first use. */
    pg: RequestDb;
    /** Set by `requireAuth` on authenticated routes. */
    auth: AuthContext;
  };
}
