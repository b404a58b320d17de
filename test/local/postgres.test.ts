/**
 * local/postgres.ts, db/client.ts and local/migrate.ts: the Neon serverless
 * driver through the WebSocket bridge, against PGlite (embedded, in a temp
 * folder) and against a real Postgres on 127.0.0.1:5432 when one runs.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool, neonConfig, type PoolClient } from '@neondatabase/serverless';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../db/client.ts';
import { portOpen } from '../../local/http.ts';
import { isLoopback, parseAddress, startPostgres, type PostgresStack } from '../../local/postgres.ts';
import { migrate, migrationsFolder } from '../../local/migrate.ts';

neonConfig.webSocketConstructor = WebSocket;

const REAL_PG = { host: '127.0.0.1', port: 5432 };


/** Rejects if `p` takes longer than `ms`: every wait in this file is bounded. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'beehive-pg-'));
}

function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

interface Target {
  stack: PostgresStack;
  pool: (max?: number) => Pool;
}

/** The behaviour both backends must share. `target()` is ready once beforeAll has run. */
function sharedBehaviour(target: () => Target) {
  it('runs plain and parameterized queries through the bridge', async () => {
    const pool = target().pool();
    try {
      const plain = await pool.query('select 40 + 2 as n');
      expect(plain.rows).toEqual([{ n: 42 }]);
      const param = await pool.query('select $1::int * 2 as n, $2::text as s', [21, 'héllo 你好']);
      expect(param.rows).toEqual([{ n: 42, s: 'héllo 你好' }]);
      const table = uniqueName('t_query');
      await pool.query(`create table ${table} (id int primary key, body text not null)`);
      await pool.query(`insert into ${table} values ($1, $2), ($3, $4)`, [1, 'one', 2, 'two']);
      const rows = await pool.query(`select id, body from ${table} order by id`);
      expect(rows.rows).toEqual([
        { id: 1, body: 'one' },
        { id: 2, body: 'two' },
      ]);
      await expect(pool.query(`insert into ${table} values (1, 'dup')`)).rejects.toMatchObject({ code: '23505' });
      // The failed statement left the connection usable.
      expect((await pool.query(`select count(*)::int as n from ${table}`)).rows[0]).toEqual({ n: 2 });
    } finally {
      await pool.end();
    }
  });

  it('rolls a transaction back, and commits one', async () => {
    const pool = target().pool();
    const table = uniqueName('t_tx');
    try {
      await pool.query(`create table ${table} (id int primary key)`);
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`insert into ${table} values ($1), ($2)`, [1, 2]);
        expect((await client.query(`select count(*)::int as n from ${table}`)).rows[0]).toEqual({ n: 2 });
        await client.query('rollback');
        expect((await client.query(`select count(*)::int as n from ${table}`)).rows[0]).toEqual({ n: 0 });

        await client.query('begin');
        await client.query(`insert into ${table} values ($1)`, [3]);
        await client.query('commit');
      } finally {
        client.release();
      }
      expect((await pool.query(`select array_agg(id)::int[] as ids from ${table}`)).rows[0]).toEqual({ ids: [3] });

      // drizzle's transaction through db/client.ts: a throw rolls it back.
      const { db, pool: dbPool } = connect({ databaseUrl: target().stack.databaseUrl, wsProxy: target().stack.wsProxyUrl });
      try {
        await expect(
          db.transaction(async (tx) => {
            await tx.execute(sql.raw(`insert into ${table} values (4)`));
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        await db.transaction(async (tx) => {
          await tx.execute(sql.raw(`insert into ${table} values (5)`));
        });
      } finally {
        await dbPool.end();
      }
      expect((await pool.query(`select array_agg(id order by id)::int[] as ids from ${table}`)).rows[0]).toEqual({
        ids: [3, 5],
      });
    } finally {
      await pool.end();
    }
  });

  it('serves 10 pool clients connected at once, each in its own transaction', async () => {
    const pool = target().pool(10);
    const table = uniqueName('t_conc');
    try {
      await pool.query(`create table ${table} (client int not null, n int not null, primary key (client, n))`);
      const clients = await within(Promise.all(Array.from({ length: 10 }, () => pool.connect())), 10_000, 'connect 10');
      // All ten are open at the same time: this is concurrency, not a queue of connections.
      expect(pool.totalCount).toBe(10);
      try {
        const seen = await within(
          Promise.all(
            clients.map(async (client, c) => {
              await client.query('begin');
              for (let n = 0; n < 5; n++) await client.query(`insert into ${table} values ($1, $2)`, [c, n]);
              const mine = await client.query(`select array_agg(n order by n)::int[] as ns from ${table} where client = $1`, [c]);
              await client.query('commit');
              return mine.rows[0].ns as number[];
            }),
          ),
          20_000,
          '10 concurrent transactions',
        );
        for (const ns of seen) expect(ns).toEqual([0, 1, 2, 3, 4]);
      } finally {
        for (const client of clients) client.release();
      }
      const total = await pool.query(`select count(*)::int as n, count(distinct client)::int as c from ${table}`);
      expect(total.rows[0]).toEqual({ n: 50, c: 10 });
    } finally {
      await pool.end();
    }
  });

  it('keeps concurrent clients’ queries apart, also when large messages arrive in pieces', async () => {
    // Big parameters split a Parse/Bind/Execute batch over several TCP reads; a
    // per-message multiplexer lets another client's statement in between and
    // answers with the wrong rows.
    const pool = target().pool(10);
    try {
      const mismatches = await within(
        Promise.all(
          Array.from({ length: 10 }, async (_, c) => {
            const client = await pool.connect();
            let wrong = 0;
            try {
              for (let i = 0; i < 15; i++) {
                const payload = c % 2 === 0 ? 'x'.repeat(200_000 + i) : `small-${c}-${i}`;
                // The statement text differs per client: binding one client's values to
                // another's statement shows up as a wrong `k`.
                const r = await client.query(`select ${c} as k, $1::int as c, $2::int as i, length($3::text) as len`, [
                  c,
                  i,
                  payload,
                ]);
                const row = r.rows[0];
                if (row.k !== c || row.c !== c || row.i !== i || row.len !== payload.length) wrong++;
              }
            } finally {
              client.release();
            }
            return wrong;
          }),
        ),
        30_000,
        'interleaved queries',
      );
      expect(mismatches).toEqual(Array(10).fill(0));
    } finally {
      await pool.end();
    }
  });

  it('applies the migrations, and a second run changes nothing', async () => {
    const { databaseUrl, wsProxyUrl } = target().stack;
    const journal = JSON.parse(await fs.readFile(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
      entries: { tag: string }[];
    };
    expect(journal.entries.length).toBeGreaterThan(0);

    await within(migrate({ databaseUrl, wsProxy: wsProxyUrl }), 20_000, 'first migrate');
    const pool = target().pool();
    try {
      const publicTables = async () =>
        (
          await pool.query(
            `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
          )
        ).rows.map((r) => r.table_name as string);
      const applied = async () =>
        (await pool.query('select count(*)::int as n from drizzle.__drizzle_migrations')).rows[0].n as number;
      const tablesAfterFirst = await publicTables();
      expect(tablesAfterFirst).toContain('users');
      expect(await applied()).toBe(journal.entries.length);

      // A re-applied migration would fail on CREATE TABLE, or be recorded twice.
      await within(migrate({ databaseUrl, wsProxy: wsProxyUrl }), 20_000, 'second migrate');
      expect(await applied()).toBe(journal.entries.length);
      expect(await publicTables()).toEqual(tablesAfterFirst);
    } finally {
      await pool.end();
    }
  });

  it('refuses non-loopback addresses and malformed ones at the bridge', async () => {
    const { wsProxyUrl } = target().stack;
    const status = (address: string) =>
      within(
        new Promise<number>((resolve, reject) => {
          const socket = new WebSocket(`ws://${wsProxyUrl}?address=${encodeURIComponent(address)}`);
          socket.on('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? 0);
            socket.terminate();
          });
          socket.on('open', () => {
            socket.terminate();
            resolve(101);
          });
          socket.on('error', (err) => reject(err));
        }),
        5_000,
        `bridge answer for ${address}`,
      );
    expect(await status('10.1.2.3:5432')).toBe(403);
    expect(await status('169.254.169.254:80')).toBe(403);
    expect(await status('example.com:5432')).toBe(403);
    expect(await status('not-an-address')).toBe(400);
    const { port } = new URL(target().stack.databaseUrl);
    expect(await status(`127.0.0.1:${port || 5432}`)).toBe(101);

    // And the driver sees a connection error, not a hang.
    const pool = new Pool({ connectionString: 'postgres://postgres:postgres@10.1.2.3:5432/postgres' });
    try {
      await expect(within(pool.query('select 1'), 5_000, 'query via refused address')).rejects.toThrow();
    } finally {
      await pool.end().catch(() => {});
    }
  });
}

describe('local Postgres: PGlite behind the bridge', () => {
  let dataDir: string;
  let stack: PostgresStack;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dataDir = await tempDir();
    stack = await within(
      startPostgres({ dataDir, pglitePort: 0, proxyPort: 0, log: (e) => logs.push(e) }),
      30_000,
      'start PGlite',
    );
    neonConfig.wsProxy = stack.wsProxyUrl;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }, 40_000);

  afterAll(async () => {
    await stack?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('reports a postgres:// URL on its port and a scheme-less proxy URL', () => {
    expect(stack.databaseUrl).toMatch(/^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(stack.wsProxyUrl).toMatch(/^127\.0\.0\.1:\d+\/v2$/);
  });

  sharedBehaviour(() => ({
    stack,
    pool: (max = 10) => new Pool({ connectionString: stack.databaseUrl, max }),
  }));

  it('rolls back the transaction of a client that disconnects, and serves the others', async () => {
    const pool = new Pool({ connectionString: stack.databaseUrl, max: 3 });
    const table = uniqueName('t_abandon');
    try {
      await pool.query(`create table ${table} (id int)`);
      const leaver: PoolClient = await pool.connect();
      await leaver.query('begin');
      await leaver.query(`insert into ${table} values (1)`);
      // Another client waits while the transaction holds PGlite's single session…
      const waiting = pool.query(`select count(*)::int as n from ${table}`);
      // …and gets it once the holder goes away without committing.
      leaver.release(new Error('gone')); // destroys the connection
      expect((await within(waiting, 10_000, 'query after the holder left')).rows[0]).toEqual({ n: 0 });
      expect((await pool.query('select pg_current_xact_id_if_assigned() is null as clean')).rows[0]).toEqual({
        clean: true,
      });
    } finally {
      await pool.end();
    }
  });

  it('drops a connection that waits too long for a session held by an idle transaction', async () => {
    const dir = await tempDir();
    const events: Record<string, unknown>[] = [];
    const own = await startPostgres({
      dataDir: dir,
      pglitePort: 0,
      proxyPort: 0,
      sessionWaitTimeoutMs: 500,
      log: (e) => events.push(e),
    });
    try {
      neonConfig.wsProxy = own.wsProxyUrl;
      const pool = new Pool({ connectionString: own.databaseUrl, max: 2 });
      pool.on('error', () => {}); // the dropped idle connection
      try {
        const holder = await pool.connect();
        await holder.query('begin');
        const started = Date.now();
        await expect(within(pool.query('select 1'), 10_000, 'waiting query')).rejects.toThrow();
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(events.some((e) => e.event === 'pglite.session_wait_timeout')).toBe(true);
        // The holder is untouched.
        await holder.query('commit');
        expect((await holder.query('select 7 as n')).rows[0]).toEqual({ n: 7 });
        holder.release();
      } finally {
        await pool.end();
      }
    } finally {
      neonConfig.wsProxy = stack.wsProxyUrl;
      await own.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local Postgres: PGlite data survives a restart', () => {
  it('keeps committed rows across stop/start with the same dataDir', async () => {
    const dataDir = await tempDir();
    try {
      const first = await within(startPostgres({ dataDir, pglitePort: 0, proxyPort: 0 }), 30_000, 'first start');
      neonConfig.wsProxy = first.wsProxyUrl;
      let pool = new Pool({ connectionString: first.databaseUrl });
      await pool.query('create table kept (id int primary key, note text)');
      await pool.query('insert into kept values ($1, $2)', [1, 'before restart']);
      await pool.end();
      await within(first.close(), 10_000, 'close');
      await first.close(); // idempotent

      // Closed means closed: nothing listens on the old ports.
      expect(await portOpen(Number(new URL(first.databaseUrl).port), '127.0.0.1', 500)).toBe(false);

      const second = await within(startPostgres({ dataDir, pglitePort: 0, proxyPort: 0 }), 30_000, 'second start');
      try {
        neonConfig.wsProxy = second.wsProxyUrl;
        pool = new Pool({ connectionString: second.databaseUrl });
        const rows = await pool.query('select id, note from kept');
        expect(rows.rows).toEqual([{ id: 1, note: 'before restart' }]);
        await pool.end();
      } finally {
        await within(second.close(), 10_000, 'close');
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('local Postgres: address checks', () => {
  it('parses host:port forms the driver produces', () => {
    expect(parseAddress('127.0.0.1:5432')).toEqual({ host: '127.0.0.1', port: 5432 });
    expect(parseAddress('::1:5432')).toEqual({ host: '::1', port: 5432 });
    expect(parseAddress('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(parseAddress('localhost:70000')).toBeUndefined();
    expect(parseAddress('localhost')).toBeUndefined();
    expect(parseAddress(null)).toBeUndefined();
  });

  it('accepts only loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of ['10.0.0.1', '0.0.0.0', '169.254.169.254', '::', '::ffff:10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopback(h), h).toBe(false);
    }
  });
});

describe.runIf(await portOpen(REAL_PG.port, REAL_PG.host, 500))('local Postgres: a real server behind the bridge', () => {
  const dbName = uniqueName('beehive_test');
  const adminUrl = `postgres://postgres@${REAL_PG.host}:${REAL_PG.port}/postgres`;
  let stack: PostgresStack;

  beforeAll(async () => {
    stack = await startPostgres({
      dataDir: '/nonexistent-unused',
      pglitePort: 0,
      proxyPort: 0,
      databaseUrl: `postgres://postgres@${REAL_PG.host}:${REAL_PG.port}/${dbName}`,
    });
    neonConfig.wsProxy = stack.wsProxyUrl;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const admin = new Pool({ connectionString: adminUrl });
    try {
      await admin.query(`create database ${dbName}`);
    } finally {
      await admin.end();
    }
  }, 30_000);

  afterAll(async () => {
    if (stack) {
      neonConfig.wsProxy = stack.wsProxyUrl;
      const admin = new Pool({ connectionString: adminUrl });
      try {
        await admin.query(`drop database if exists ${dbName} with (force)`);
      } finally {
        await admin.end();
      }
      await stack.close();
    }
  });

  it('passes the given URL through and starts no PGlite', async () => {
    expect(stack.databaseUrl).toBe(`postgres://postgres@${REAL_PG.host}:${REAL_PG.port}/${dbName}`);
    const pool = new Pool({ connectionString: stack.databaseUrl });
    try {
      const r = await pool.query('select current_database() as db, version() as v');
      expect(r.rows[0].db).toBe(dbName);
      expect(r.rows[0].v).toMatch(/^PostgreSQL \d+/);
    } finally {
      await pool.end();
    }
  });

  sharedBehaviour(() => ({
    stack,
    pool: (max = 10) => new Pool({ connectionString: stack.databaseUrl, max }),
  }));
});
