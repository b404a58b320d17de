/**
 * The local stand-in for the email API. It accepts mail the way Resend's
 * API does (`POST /emails` with a bearer key and `{from, to, subject, text}`)
 * and keeps it in memory for the developer and the tests:
 * `GET /mailbox?to=<address>` → `{ messages: [{to, subject, text, sentAt}] }`, newest last.
 */
import http from 'node:http';
import { readJson, sendJson } from './http.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

export interface Mailbox {
  url: string;
  close(): Promise<void>;
}

const MAX_KEPT = 10_000;

export async function startMailbox(opts: { port: number; host?: string; apiKey: string; log?: (e: Record<string, unknown>) => void }): Promise<Mailbox> {
  const host = opts.host ?? '127.0.0.1';
  const mails: Mail[] = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method === 'GET' && url.pathname === '/mailbox') {
      const to = url.searchParams.get('to')?.toLowerCase();
      return sendJson(res, 200, { messages: to ? mails.filter((m) => m.to.toLowerCase() === to) : mails });
    }
    if (req.method === 'POST' && url.pathname === '/emails') {
      if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return sendJson(res, 401, { name: 'missing_api_key', message: 'Invalid API key' });
      const body = (await readJson(req)) as { to?: string | string[]; subject?: string; text?: string } | undefined;
      const recipients = typeof body?.to === 'string' ? [body.to] : body?.to;
      if (!recipients?.length || typeof body?.subject !== 'string') return sendJson(res, 422, { name: 'validation_error', message: '`to` and `subject` are required' });
      const id = crypto.randomUUID();
      for (const to of recipients) {
        mails.push({ to, subject: body.subject, text: body.text ?? '', sentAt: new Date().toISOString() });
        opts.log?.({ event: 'mail.sent', to, subject: body.subject });
      }
      if (mails.length > MAX_KEPT) mails.splice(0, mails.length - MAX_KEPT);
      return sendJson(res, 200, { id });
    }
    sendJson(res, 404, { error: 'not found' });
  });

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, host, resolve));
  return {
    url: `http://${host}:${opts.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
