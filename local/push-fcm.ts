/**
 * FCM for the local push service (local/push.ts): a service account of its
 * own, Google's OAuth 2.0 token endpoint for it, and FCM HTTP v1's send.
 *
 * - `POST /token` (form: `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`):
 *   the assertion must be RS256-signed by the service account's key (`kid` = its
 *   `private_key_id` when given), `iss` = its `client_email`, `aud` = its `token_uri`,
 *   at most an hour long, with a scope that covers FCM → `{access_token, expires_in, token_type}`;
 *   otherwise 400 `{error: "invalid_grant" | "unsupported_grant_type", error_description}`.
 * - `POST /v1/projects/{projectId}/messages:send` with `Authorization: Bearer <access token>` and
 *   `{message: {token, data?, notification?, android?, webpush?, apns?}}` → `{name}`; errors in
 *   Google's shape `{error: {code, message, status, details}}`: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED
 *   (another project), 400 INVALID_ARGUMENT, 404 NOT_FOUND with `FcmError.errorCode` UNREGISTERED
 *   for a token that is unknown or gone.
 * - `POST /fcm/tokens` → 201 `{token}` (a registration token, as a device's FCM SDK gets one);
 *   `POST /fcm/tokens/gone {token}` → 204 (the app was uninstalled); `GET /fcm/service-account`.
 */
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportPKCS8, generateKeyPair, jwtVerify, decodeProtectedHeader, type CryptoKey } from 'jose';
import { readBody, readJson, sendJson } from './http.ts';
import type { Inbox } from './push-inbox.ts';

/** The key file Google issues for a service account (the fields clients read). */
export interface ServiceAccountJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  token_uri: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPES_COVERING_FCM = new Set(['https://www.googleapis.com/auth/firebase.messaging', 'https://www.googleapis.com/auth/cloud-platform']);
/** FCM's default time to live: four weeks. */
const DEFAULT_TTL_SECONDS = 2_419_200;
const PROJECT_ID = 'beehive-local';

export interface FcmStandIn {
  serviceAccount: ServiceAccountJson;
  /** Token requests answered with a token, since start: what the sender's token cache saves. */
  readonly tokenRequests: number;
  /** Handles the request if it is one of FCM's; false if not. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean>;
}

/** Google's error envelope (google.rpc.Status). */
function googleError(res: http.ServerResponse, code: number, status: string, message: string, details: unknown[] = []): void {
  sendJson(res, code, { error: { code, message, status, ...(details.length ? { details } : {}) } });
}

const fcmError = (errorCode: string) => ({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });

export async function createFcmStandIn(opts: { url: string; inbox: Inbox; tokenTtlSeconds?: number }): Promise<FcmStandIn> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const serviceAccount: ServiceAccountJson = {
    type: 'service_account',
    project_id: PROJECT_ID,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: await exportPKCS8(privateKey),
    client_email: `beehive-push@${PROJECT_ID}.iam.gserviceaccount.com`,
    token_uri: `${opts.url}/token`,
  };
  const tokenTtl = opts.tokenTtlSeconds ?? 3599;
  const accessTokens = new Map<string, number>(); // token → expiry (ms)
  const gone = new Set<string>();
  let tokenRequests = 0;

  async function token(req: http.IncomingMessage, res: http.ServerResponse) {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    if (form.get('grant_type') !== JWT_BEARER) {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type must be ${JWT_BEARER}` });
    }
    const problem = await assertionProblem(form.get('assertion') ?? '', publicKey, serviceAccount);
    if (problem) return sendJson(res, 400, { error: 'invalid_grant', error_description: problem });
    tokenRequests += 1;
    const accessToken = `ya29.local-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, Date.now() + tokenTtl * 1000);
    sendJson(res, 200, { access_token: accessToken, expires_in: tokenTtl, token_type: 'Bearer' });
  }

  async function send(req: http.IncomingMessage, res: http.ServerResponse, project: string) {
    const bearer = req.headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
    const expiry = bearer ? accessTokens.get(bearer) : undefined;
    if (!expiry || expiry < Date.now()) {
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (project !== serviceAccount.project_id) return googleError(res, 403, 'PERMISSION_DENIED', `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}'`);
    let body: { message?: Record<string, unknown> } | undefined;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8')) as typeof body;
    } catch {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const message = body?.message;
    const invalid = message ? messageProblem(message) : 'message is required';
    if (invalid) return googleError(res, 400, 'INVALID_ARGUMENT', invalid, [fcmError('INVALID_ARGUMENT')]);
    const { token: device, ...payload } = message as { token: string } & Record<string, unknown>;
    if (!opts.inbox.has(`fcm:${device}`) || gone.has(device)) {
      return googleError(res, 404, 'NOT_FOUND', 'Requested entity was not found.', [fcmError('UNREGISTERED')]);
    }
    const name = `projects/${project}/messages/0:${Date.now()}%${randomBytes(8).toString('hex')}`;
    opts.inbox.add(`fcm:${device}`, { payload, ...deliveryOptions(payload), receivedAt: new Date().toISOString(), name });
    sendJson(res, 200, { name });
  }

  /** A registration token shaped like FCM's (`<instance id>:APA91b…`). */
  function mintToken(res: http.ServerResponse) {
    const device = `${randomBytes(11).toString('base64url')}:APA91b${randomBytes(105).toString('base64url')}`;
    opts.inbox.open(`fcm:${device}`);
    sendJson(res, 201, { token: device });
  }

  async function markGone(req: http.IncomingMessage, res: http.ServerResponse) {
    const body = (await readJson(req)) as { token?: unknown } | undefined;
    const device = body?.token;
    if (typeof device !== 'string' || !opts.inbox.has(`fcm:${device}`)) return sendJson(res, 404, { error: 'unknown token' });
    gone.add(device);
    res.writeHead(204).end();
  }

  return {
    serviceAccount,
    get tokenRequests() {
      return tokenRequests;
    },
    async handle(req, res, url) {
      const route = `${req.method} ${url.pathname}`;
      const sendPath = req.method === 'POST' ? url.pathname.match(/^\/v1\/projects\/([^/]+)\/messages:send$/) : null;
      if (route === 'POST /token') await token(req, res);
      else if (sendPath) await send(req, res, decodeURIComponent(sendPath[1]!));
      else if (route === 'POST /fcm/tokens') mintToken(res);
      else if (route === 'POST /fcm/tokens/gone') await markGone(req, res);
      else if (route === 'GET /fcm/service-account') sendJson(res, 200, serviceAccount);
      else return false;
      return true;
    },
  };
}

async function assertionProblem(assertion: string, publicKey: CryptoKey, sa: ServiceAccountJson): Promise<string | undefined> {
  try {
    const { kid } = decodeProtectedHeader(assertion);
    if (kid !== undefined && kid !== sa.private_key_id) return 'Invalid JWT: kid is not this service account key';
    const { payload } = await jwtVerify(assertion, publicKey, {
      algorithms: ['RS256'],
      issuer: sa.client_email,
      audience: sa.token_uri,
      requiredClaims: ['iat', 'exp', 'scope'],
    });
    if (payload.exp! - payload.iat! > 3600) return 'Invalid JWT: expiration must be at most one hour after issue';
    const scopes = String(payload.scope).split(' ');
    if (!scopes.some((s) => SCOPES_COVERING_FCM.has(s))) return 'Invalid JWT: scope does not include firebase.messaging';
    return undefined;
  } catch (err) {
    return `Invalid JWT Signature or claims: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** What FCM would refuse as INVALID_ARGUMENT, in the subset this stand-in plays. */
function messageProblem(message: Record<string, unknown>): string | undefined {
  if (typeof message.token !== 'string' || !message.token) return 'message.token is required (topics and conditions are not supported here)';
  const known = new Set(['token', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'name']);
  for (const key of Object.keys(message)) if (!known.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at 'message'`;
  if (message.data !== undefined) {
    if (typeof message.data !== 'object' || message.data === null || Array.isArray(message.data)) return "Invalid value at 'message.data'";
    for (const [k, v] of Object.entries(message.data)) if (typeof v !== 'string') return `Invalid value at 'message.data[${k}].value' (TYPE_STRING)`;
  }
  return undefined;
}

/** Topic, urgency and TTL as FCM derives them from the platform blocks (Android first, then Web Push headers). */
function deliveryOptions(payload: Record<string, unknown>): { topic?: string; urgency?: string; ttl: number } {
  const android = (payload.android ?? {}) as { collapse_key?: unknown; priority?: unknown; ttl?: unknown };
  const webHeaders = ((payload.webpush ?? {}) as { headers?: Record<string, unknown> }).headers ?? {};
  const apnsHeaders = ((payload.apns ?? {}) as { headers?: Record<string, unknown> }).headers ?? {};
  const topic = android.collapse_key ?? webHeaders.Topic ?? apnsHeaders['apns-collapse-id'];
  const urgency = android.priority ?? webHeaders.Urgency;
  const ttlText = typeof android.ttl === 'string' ? android.ttl.replace(/s$/, '') : webHeaders.TTL;
  const ttl = Number(ttlText ?? DEFAULT_TTL_SECONDS);
  return {
    ...(typeof topic === 'string' ? { topic } : {}),
    ...(typeof urgency === 'string' ? { urgency: urgency.toLowerCase() } : {}),
    ttl: Number.isFinite(ttl) ? Math.floor(ttl) : DEFAULT_TTL_SECONDS,
  };
}
