/** The Hono app: middleware, one router per resource, the OpenAPI document and its reference page. */
import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { LIMITS } from '../protocol/common.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { notFound, onError } from './middleware/errors.ts';
import { refuseBots } from './middleware/auth.ts';
import { requestContext } from './middleware/request-context.ts';
import { authRoutes } from './routes/auth.ts';
import { botRoutes } from './routes/bots.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { friendRoutes } from './routes/friends.ts';
import { healthRoutes } from './routes/health.ts';
import { hookRoutes, incomingRoutes } from './routes/incoming-webhooks.ts';
import { jobRoutes } from './routes/jobs.ts';
import { messageRoutes } from './routes/messages.ts';
import { presenceRoutes } from './routes/presence.ts';
import { pushRoutes } from './routes/push.ts';
import { settingsRoutes } from './routes/settings.ts';
import { streamRoutes } from './routes/stream.ts';
import { userRoutes } from './routes/users.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { wsRoutes } from './routes/ws.ts';
import { defaultHook } from './validation.ts';

const app = new OpenAPIHono<AppEnv>({ defaultHook });

app.use(requestContext);
app.use(
  '/api/*',
  bodyLimit({
    maxSize: LIMITS.bodyBytes,
    onError: () => {
      throw new ApiError('too_large', `Request bodies are limited to ${LIMITS.bodyBytes} bytes`);
    },
  }),
);

app.use('/api/v1/auth/*', refuseBots);

const routes = app.route('/', healthRoutes).route('/api/v1/auth', authRoutes)
  .route('/api/v1/users/me/settings', settingsRoutes)
  .route('/api/v1/users', userRoutes)
  .route('/api/v1/friends', friendRoutes)
  .route('/api/v1/conversations', conversationRoutes)
  .route('/api/v1/conversations', messageRoutes)
  .route('/api/v1/conversations', streamRoutes)
  .route('/api/v1/conversations', webhookRoutes)
  .route('/api/v1/conversations', incomingRoutes)
  .route('/api/v1/bots', botRoutes)
  .route('/api/v1/hooks', hookRoutes)
  .route('/api/v1/presence', presenceRoutes)
  .route('/api/v1/push', pushRoutes)
  .route('/api/v1/ws', wsRoutes);
app.route('/internal/jobs', jobRoutes);

app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
app.doc31('/openapi.json', {
  openapi: '3.1.0',
  info: { title: 'Beehive API', version: '1', description: 'Edge-native instant messaging. See API.md for the WebSocket protocol.' },
});
app.get('/docs', swaggerUI({ url: '/openapi.json' }));

app.notFound(notFound);
app.onError(onError);

export type AppType = typeof routes;
export default app;
