/** The Worker entry: the Hono app serves every request; the Durable Object classes are exported for their bindings. */
import app from './app.ts';

export { ConversationDO } from '../durable-objects/conversation/index.ts';
export { UploadDO } from '../durable-objects/upload/index.ts';
export { UserDO } from '../durable-objects/user/index.ts';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
