/** PUT /<key> → the body into R2 (a request body has a known length, so R2 takes it as a stream). */
interface CeilingEnv {
  FILES: { put(key: string, body: ReadableStream | null): Promise<{ size: number } | null> };
}

export default {
  async fetch(request: Request, env: CeilingEnv): Promise<Response> {
    if (request.method !== 'PUT') return new Response('PUT a body', { status: 405 });
    const stored = await env.FILES.put(new URL(request.url).pathname.slice(1) || 'object', request.body);
    return Response.json({ size: stored?.size ?? 0 });
  },
};
