/** The Hono app: middleware, one router per resource, the OpenAPI document and its reference page (openapi.ts). */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { LIMITS } from '../protocol/common.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { corsPolicy } from './middleware/cors.ts';
import { notFound, onError } from './middleware/errors.ts';
import { isUploadRequest } from './files/limits.ts';
import { requestContext, requestIds } from './middleware/request-context.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { authRoutes } from './routes/auth.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { fileRoutes } from './routes/files.ts';
import { friendRoutes } from './routes/friends.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { messageRoutes } from './routes/messages.ts';
import { presenceRoutes } from './routes/presence.ts';
import { pushRoutes } from './routes/push.ts';
import { searchRoutes } from './routes/search.ts';
import { settingsRoutes } from './routes/settings.ts';
import { streamRoutes } from './routes/stream.ts';
import { userRoutes } from './routes/users.ts';
import { wsRoutes } from './routes/ws.ts';
import { serveApiDocs } from './openapi.ts';
import { defaultHook } from './validation.ts';

const app = new OpenAPIHono<AppEnv>({ defaultHook });

app.use(requestIds, requestContext);
app.use(securityHeaders);
app.use('/api/*', corsPolicy);
const jsonBodyLimit = bodyLimit({
  maxSize: LIMITS.bodyBytes,
  onError: () => {
    throw new ApiError('too_large', `Request bodies are limited to ${LIMITS.bodyBytes} bytes`);
  },
});
// File bytes are streamed and limited by their own routes (FILE_MAX_BYTES, FILE_SINGLE_MAX_BYTES).
app.use('/api/*', (c, next) => (isUploadRequest(c.req.method, c.req.path) ? next() : jsonBodyLimit(c, next)));

const routes = app.route('/', healthRoutes).route('/api/v1/auth', authRoutes)
  .route('/api/v1/users/me/settings', settingsRoutes)
  .route('/api/v1/users', userRoutes)
  .route('/api/v1/friends', friendRoutes)
  .route('/api/v1/conversations', conversationRoutes)
  .route('/api/v1/conversations', messageRoutes)
  .route('/api/v1/conversations', streamRoutes)
  .route('/api/v1/presence', presenceRoutes)
  .route('/api/v1/push', pushRoutes)
  .route('/api/v1/files', fileRoutes)
  .route('/api/v1/search', searchRoutes)
  .route('/api/v1/ws', wsRoutes);
app.route('/internal/jobs', jobRoutes);

serveApiDocs(app);

app.notFound(notFound);
app.onError(onError);

export type AppType = typeof routes;
export default app;
