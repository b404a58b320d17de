/**
 * Uploads by tus 1.0 (API.md § Files: `POST /files/uploads` …) through the
 * official tus-js-client, loaded on first use so a page that never uploads
 * never downloads it. Resumable: an interrupted PATCH is retried from the
 * offset `HEAD` reports.
 */
import type { HttpClient } from './http.ts';
import type { FileView } from './types.ts';

export interface UploadOptions {
  /** Called as bytes go out (`sent` of `total`). */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes per PATCH (default: the whole file in one). */
  chunkSize?: number;
}

/** Uploads `file` as `name`; resolves with the stored file (its id goes into a message's `fileId`). */
export async function uploadFile(http: HttpClient, file: Blob, name: string, opts: UploadOptions = {}): Promise<FileView> {
  const { Upload } = await import('tus-js-client');
  let fileId: string | null = null;
  return new Promise<FileView>((resolve, reject) => {
    const upload = new Upload(file, {
      endpoint: http.url('/files/uploads'),
      metadata: { filename: name, filetype: file.type || 'application/octet-stream' },
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      retryDelays: [0, 1000, 3000, 5000],
      removeFingerprintOnSuccess: true,
      // Each request gets the current token: a long upload may outlive the access token it started with.
      onBeforeRequest: async (req) => {
        for (const [k, v] of Object.entries(await http.authHeaders())) req.setHeader(k, v);
      },
      // The last PATCH names the file it completed (API.md: header Beehive-File-Id).
      onAfterResponse: (_req, res) => {
        fileId = res.getHeader('Beehive-File-Id') ?? fileId;
      },
      onProgress: (sent, total) => opts.onProgress?.(sent, total),
      onError: reject,
      onSuccess: () => {
        const done = fileId
          ? http.request<FileView>('GET', `/files/${encodeURIComponent(fileId)}`)
          : http.request<{ file?: FileView }>('GET', new URL(upload.url!).pathname.replace(/^.*\/api\/v1/, '')).then((s) => {
              if (!s.file) throw new Error('The upload finished but names no file');
              return s.file;
            });
        done.then(resolve, reject);
      },
    });
    opts.signal?.addEventListener('abort', () => {
      void upload.abort(true);
      reject(new DOMException('Upload aborted', 'AbortError'));
    });
    upload.start();
  });
}
