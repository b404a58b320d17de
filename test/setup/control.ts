/**
 * The e2e stack's control endpoint, for failure tests: a Postgres outage
 * (`POST /postgres {available}`) and a restart of the Worker and its Durable
 * Objects (`POST /worker/restart`). Test-only: `npm start` has none.
 */
import http from 'node:http';
import { readJson, sendJson } from '../../local/http.ts';

export async function startControl(
  port: number,
  hooks: { setPostgresAvailable(on: boolean): void; restartWorker(): Promise<void> },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/postgres') {
        const body = (await readJson(req)) as { available?: boolean } | undefined;
        hooks.setPostgresAvailable(body?.available !== false);
        return sendJson(res, 200, { available: body?.available !== false });
      }
      if (req.method === 'POST' && req.url === '/worker/restart') {
        await hooks.restartWorker();
        return sendJson(res, 200, { restarted: true });
      }
      sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      sendJson(res, 500, { error: String(err) });
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
