/**
 * The OpenAPI 3.1 document (`/openapi.json`), generated from the routes' zod
 * schemas, and the reference page (`/docs`), served from the Worker's own
 * assets (swagger-ui from `public/docs/vendor/`, filled by local/assets.ts):
 * no CDN, so it renders offline.
 */
import { asyncApiDocument } from '../protocol/asyncapi.ts';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context.ts';

type Document = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

const TAGS = [
  { name: 'auth', description: 'Accounts, sessions and tokens' },
  { name: 'users', description: 'Profiles, user search and blocks' },
  { name: 'friends', description: 'Friends and friend requests' },
  { name: 'conversations', description: 'Single and group conversations, members and roles' },
  { name: 'messages', description: 'History, sending and read cursors' },
  { name: 'stream', description: 'The conversation stream: events, edits, recalls, reactions, receipts' },
  { name: 'push', description: 'Push subscriptions of my devices (Web Push, FCM)' },
  { name: 'presence', description: 'Who is online, as far as the caller may see' },
  { name: 'realtime', description: 'WebSockets: the device socket and live views (frames: see the WebSocket protocol)' },
  { name: 'health', description: 'Liveness and readiness' },
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** `post /api/v1/conversations/{id}/members` → `postConversationsIdMembers`: for operations whose route names none. */
function derivedOperationId(method: string, path: string): string {
  const words = path.replace(/^\/api\/v1/, '').split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** Serves `GET /openapi.json` and `GET /docs` from `app`'s registered routes, and `GET /asyncapi.json` from the frame schemas. */
export function serveApiDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from register, login or refresh',
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument(app, c.req.url)));
  // The request's own origin is the server, as for /openapi.json.
  app.get('/asyncapi.json', (c) => c.json(asyncApiDocument(new URL(c.req.url).origin)));
  app.get('/docs', (c) => c.html(DOCS_PAGE));
}

/** The document for a request: its own origin is the server, bearer auth unless an operation says `security: []`. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, requestUrl: string): Document {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Beehive API',
      version: '1',
      description: 'Edge-native instant messaging. Errors are `{error: {code, message, requestId}}`; each response lists its codes.',
      license: { name: 'Proprietary', url: new URL('/docs', requestUrl).toString() },
    },
    servers: [{ url: new URL(requestUrl).origin, description: 'This deployment' }],
    security: [{ bearerAuth: [] }],
    tags: TAGS,
  });
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (op && !op.operationId) op.operationId = derivedOperationId(method, path);
    }
  }
  return doc;
}

/** The reference page; its files are static assets of this Worker. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Beehive API</title>
  <link rel="icon" href="/docs/vendor/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/vendor/swagger-ui-bundle.js"></script>
  <script>
    // validatorUrl: null — no call to swagger.io's validator; the page needs no network beyond this Worker.
    SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true, validatorUrl: null });
  </script>
</body>
</html>
`;
