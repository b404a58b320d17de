/**
 * The harness's own cost: what timing one sample costs, what decoding one
 * delivered frame costs, and a loopback echo through the relay process
 * measured with the same socket and histogram code as every other scenario.
 */
import type { Scenario } from '../lib/context.ts';
import { Latency } from '../lib/histogram.ts';
import { BenchSocket } from '../lib/socket.ts';
import { now, withTimeout } from '../lib/timing.ts';

export const overhead: Scenario = {
  id: 'overhead',
  title: 'Harness overhead',
  estimateSeconds: () => 5,
  async run(ctx, section) {
    const { records, echo } = ctx.scale.overhead;
    section.labels = { beehive: 'harness' };
    section.scale = `${records.toLocaleString('en-US')} timed records; ${records / 10} frame decodes; ${echo} echo round trips one at a time (after 100 warm-up)`;

    // Two clock reads and one histogram record: what every sample costs.
    const h = new Latency();
    let t0 = now();
    for (let i = 0; i < records; i++) {
      const a = now();
      h.record(now() - a);
    }
    const recordNs = ((now() - t0) / records) * 1e6;

    // Decoding a delivered frame, as the receive path does.
    const frame = JSON.stringify({
      type: 'message.new',
      message: { id: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60', conversationId: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f61', seq: 123456, senderId: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f62', clientMsgId: 'one-to-one-12345', type: 'text', content: 'bench message one-to-one-12345', createdAt: '2026-11-22T04:55:00.123Z' },
    });
    const buf = Buffer.from(frame);
    const decodes = records / 10;
    let sink = 0;
    t0 = now();
    for (let i = 0; i < decodes; i++) sink += (JSON.parse(buf.toString()) as { message: { seq: number } }).message.seq;
    const decodeUs = ((now() - t0) / decodes) * 1e3;
    if (sink === 0) throw new Error('unreachable');

    // Loopback echo through the relay process: the floor of any socket round trip.
    const socket = await BenchSocket.open(`${ctx.relay.url}/echo`);
    const rtt = new Latency();
    try {
      for (let i = 0; i < echo + 100; i++) {
        const got = new Promise<number>((resolve) => (socket.onFrame = (_f, at) => resolve(at)));
        const sent = now();
        socket.send({ type: 'ping', n: i });
        const at = await withTimeout(got, 5000, 'echo');
        if (i >= 100) rtt.record(at - sent);
      }
    } finally {
      await socket.close();
    }
    section.rows.push(
      { metric: 'clock read ×2 + histogram record', unit: 'ns', beehive: recordNs, note: 'per latency sample' },
      { metric: 'decode one message.new frame', unit: 'µs', beehive: decodeUs, note: `${buf.length} B frame` },
      { metric: 'loopback echo round trip (ws → Node → ws)', unit: 'ms', beehive: rtt.summary(), note: 'the harness + one Node hop, both ways' },
    );
  },
};
