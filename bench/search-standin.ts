/**
 * The local Algolia stand-in under load: loads 100,000 synthetic messages
 * (English, Chinese, Japanese, mixed) through the production adapter
 * (services/search.ts → the official client → HTTP), then times a few hundred
 * searches the way the Worker makes them: one user's conversations as the
 * filter, a query word or two, 20 hits with highlights.
 *
 *   node bench/search-standin.ts [messages=100000] [queries=300]
 *
 * Not part of `npm run bench` (yet); prints a small table.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAlgoliaEmulator } from '../local/algolia.ts';
import { ensureIndexSettings, messageObjectID, saveRecords, searchMessages, type MessageQuery, type MessageRecord, type SearchConfig } from '../services/search.ts';
import { Latency } from './lib/histogram.ts';
import { round } from './lib/timing.ts';

const MESSAGES = Number(process.argv[2] ?? 100_000);
const QUERIES = Number(process.argv[3] ?? 300);
const CONVERSATIONS = 2_000;
const USER_CONVERSATIONS = 50; // a user's memberships: the filter of a global search

// A deterministic PRNG, so runs compare.
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const EN = 'meeting tomorrow project deadline lunch coffee report budget review design launch weekend travel ticket hotel flight dinner movie music photo birthday party office client contract invoice server deploy release bug feature test'.split(' ');
const ZH = '我们 明天 北京 上海 开会 项目 报告 午饭 咖啡 周末 旅行 机票 酒店 电影 音乐 照片 生日 公司 客户 合同 发布 测试 问题 时间'.split(' ');
const JA = '東京 大阪 タワー 会議 明日 資料 昼ご飯 コーヒー 週末 旅行 チケット ホテル 映画 音楽 写真 誕生日 会社 お客様 契約 リリース テスト'.split(' ');
const JA_PARTICLES = ['に', 'で', 'を', 'は', 'の', 'と'];

function sentence(): string {
  const kind = rand();
  const len = 4 + Math.floor(rand() * 10);
  if (kind < 0.4) return Array.from({ length: len }, () => pick(EN)).join(' ');
  if (kind < 0.7) return Array.from({ length: len }, () => pick(ZH)).join('') + '。';
  if (kind < 0.9) return Array.from({ length: len }, () => pick(JA) + pick(JA_PARTICLES)).join('') + '。';
  return `${pick(EN)} ${pick(ZH)}${pick(ZH)} ${pick(JA)} ${pick(EN)} 🎉`;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'beehive-search-bench-'));
const stateFile = path.join(dir, 'algolia.json');
let emulator = await startAlgoliaEmulator({ port: 0, appId: 'BENCH', apiKey: 'bench-key', stateFile });
const cfg: SearchConfig = { appId: 'BENCH', apiKey: 'bench-key', indexName: 'messages', hosts: [emulator.url] };
await ensureIndexSettings(cfg);

const t0 = Date.UTC(2026, 0, 1);
const records: MessageRecord[] = Array.from({ length: MESSAGES }, (_, i) => {
  const conversationId = `conv${i % CONVERSATIONS}`;
  const seq = Math.floor(i / CONVERSATIONS) + 1;
  return { objectID: messageObjectID(conversationId, seq), conversationId, seq, senderId: `user${i % 500}`, type: 'text', text: sentence(), createdAt: t0 + i * 1000, version: 1 };
});

const indexStart = performance.now();
for (let i = 0; i < records.length; i += 1000) await saveRecords(cfg, records.slice(i, i + 1000));
const indexMs = performance.now() - indexStart;

// A restart reloads the state file and rebuilds the index before it listens.
await emulator.close();
const restartStart = performance.now();
emulator = await startAlgoliaEmulator({ port: Number(new URL(emulator.url).port), appId: 'BENCH', apiKey: 'bench-key', stateFile });
const restartMs = performance.now() - restartStart;

const queryWords = [...EN, ...ZH, ...JA, 'mee', 'proj', '北京开会', 'タワー', '京'];
async function measure(make: () => MessageQuery): Promise<{ latency: Latency; hits: number }> {
  const latency = new Latency();
  let hits = 0;
  for (let i = 0; i < QUERIES; i++) {
    const q = make();
    const t = performance.now();
    const res = await searchMessages(cfg, q);
    latency.record(performance.now() - t);
    hits += res.hits.length;
  }
  return { latency, hits };
}
const memberships = () => Array.from({ length: USER_CONVERSATIONS }, () => `conv${Math.floor(rand() * CONVERSATIONS)}`);
const scenarios = {
  'global (50 conversations), 1 word': () => ({ query: pick(queryWords), conversationIds: memberships(), page: 0, hitsPerPage: 20 }),
  'global (50 conversations), 2 words': () => ({ query: `${pick(EN)} ${pick(EN).slice(0, 3)}`, conversationIds: memberships(), page: 0, hitsPerPage: 20 }),
  'one conversation, 1 word': () => ({ query: pick(queryWords), conversationIds: [`conv${Math.floor(rand() * CONVERSATIONS)}`], page: 0, hitsPerPage: 20 }),
  'all 2,000 conversations, 1 word': () => ({ query: pick(queryWords), conversationIds: Array.from({ length: CONVERSATIONS }, (_, i) => `conv${i}`), page: 0, hitsPerPage: 20 }),
};
const rows: string[] = [];
for (const [name, make] of Object.entries(scenarios)) {
  const { latency, hits } = await measure(make);
  const s = latency.summary();
  rows.push(`| ${name} | ${s.count} | ${round(hits / s.count, 1)} | ${s.p50} | ${s.p99} | ${s.max} |`);
}

await emulator.close();
const stateBytes = (await stat(stateFile)).size;
await rm(dir, { recursive: true, force: true });

console.log(`
Algolia stand-in, ${MESSAGES.toLocaleString('en')} messages in ${CONVERSATIONS.toLocaleString('en')} conversations (node ${process.version}, ${os.cpus().length} CPUs)
  indexing through the adapter (batches of 1,000): ${round(indexMs / 1000, 1)} s (${Math.round(MESSAGES / (indexMs / 1000)).toLocaleString('en')} records/s)
  restart (load the state, rebuild the index):      ${round(restartMs / 1000, 1)} s
  state file: ${round(stateBytes / 2 ** 20, 1)} MiB

| search (through the adapter, HTTP, 20 hits) | queries | hits/query | p50 ms | p99 ms | max ms |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`);
