'use strict';
// The benchmark's own pieces that can be checked without running it: the
// addon's benchmark-support function (the inflate ceiling) and the targets
// table's verdicts.
const zlib = require('zlib');
const { inflateThroughput } = require('../lib/binding');
const { evaluateTargets, formatTargets } = require('../bench/targets');
const { servedProtocol, rowLabel } = require('../bench/tls');

// About 2:1 compressible, like the dense bench body.
function sample(bytes) {
	const out = Buffer.alloc(bytes);
	let state = 0x12345678;
	for (let i = 0; i < bytes; i++) {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		out[i] = i % 3 === 0 ? state & 0xff : out[i - 1] ?? 0;
	}
	return out;
}

describe('inflateThroughput (benchmark support)', () => {
	const data = sample(1 << 20);
	const gzip = zlib.gzipSync(data);

	it('decodes for at least the time asked and reports MB/s of decoded output', () => {
		const start = process.hrtime.bigint();
		const mbs = inflateThroughput(gzip, 0.2);
		const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
		expect(elapsed).toBeGreaterThanOrEqual(0.2);
		expect(Number.isFinite(mbs)).toBe(true);
		// At least one whole pass of decoded output in the time it took.
		expect(mbs * elapsed).toBeGreaterThanOrEqual(data.length / 1e6);
	});

	it('takes gzip bodies of several members, as the dense bench body is', () => {
		expect(inflateThroughput(Buffer.concat([gzip, gzip]), 0.05)).toBeGreaterThan(0);
	});

	it('refuses what a download would not decode in full instead of timing nothing', () => {
		expect(() => inflateThroughput(gzip.subarray(0, gzip.length - 100), 0.05)).toThrow('not a complete gzip body');
		expect(() => inflateThroughput(Buffer.alloc(0), 0.05)).toThrow('not a complete gzip body');
		expect(() => inflateThroughput(Buffer.from('not gzip at all'), 0.05)).toThrow('invalid compressed response body');
		expect(() => inflateThroughput(gzip, -1)).toThrow('seconds');
	});
});

describe('bench targets', () => {
	const send = (rps, cpuPerReq, p50) => ({ rps, cpuPerReq, p50 });

	it('says `not run` for a target whose scenario did not run, met / NOT met for the others', () => {
		const results = {
			'send-small c64': { native: send(20000, 30, 3), undici: send(19000, 25, 2) },
			'send-hooks c64': { native: send(14000, 40, 4) },
			'stream-gzip (OS image)': { native: { MBs: 540 }, 'balena-request': { MBs: 300 }, 'inflate-ceiling': { MBs: 600 } },
			'send-small-tls c64': { native: { ...send(15000, 40, 3), protocol: 'h2' }, undici: { ...send(16000, 30, 2), protocol: 'http/1.1' } },
		};
		const byTarget = Object.fromEntries(evaluateTargets(results).map((row) => [row.target, row]));
		expect(byTarget['send-small c64 req/s, native / undici'].status).toBe('met');
		expect(byTarget['send-small c64 client CPU per request'].status).toBe('NOT met');
		// 14000 / 20000 = 0.70, more than 25% below.
		expect(byTarget['send-hooks c64 / send-small c64 req/s (native)'].status).toBe('NOT met');
		expect(byTarget['stream-gzip MB/s, native / inflate ceiling'].status).toBe('met');
		expect(byTarget['stream-gzip MB/s, native / balena-request'].status).toBe('NOT met');
		expect(byTarget['send-small-tls c64 req/s, native / undici (HTTP/1.1)']).toMatchObject({
			status: 'NOT met',
			measured: '0.94x (native h2 15000 vs undici http/1.1 16000 req/s)',
		});
		for (const name of ['send-small c1 p50 latency', 'send-post c16 req/s, native / undici', 'stream-plain file MB/s, native / balena-request', 'slow-consumer RSS growth (native)']) {
			expect(byTarget[name]).toMatchObject({ status: 'not run', measured: '' });
		}
		const table = formatTargets(evaluateTargets(results)).split('\n');
		expect(table[0]).toMatch(/^target +measured \(medians\) +required +status$/);
		expect(table).toHaveLength(1 + Object.keys(byTarget).length);
	});

	it('checks the fixed limits inclusively', () => {
		const results = {
			'event-loop (gzip-dense)': { native: { loopP99ms: 1 } },
			'slow-consumer 50MB/s': { native: { rssGrowthMB: 32.5 } },
		};
		const byTarget = Object.fromEntries(evaluateTargets(results).map((row) => [row.target, row]));
		expect(byTarget['event-loop p99 during a gzip download (native)']).toMatchObject({ status: 'met', required: '<= 1 ms' });
		expect(byTarget['slow-consumer RSS growth (native)']).toMatchObject({ status: 'NOT met', measured: '32.5 MB' });
	});

	it('labels a row with the protocol its runs were served', () => {
		expect(rowLabel('native', servedProtocol([{ protocol: 'h2' }, { protocol: 'h2' }]))).toBe('native (h2)');
		expect(rowLabel('undici', servedProtocol([{ protocol: 'http/1.1' }, { protocol: 'h2' }]))).toBe('undici (http/1.1 + h2)');
		expect(rowLabel('native', servedProtocol([{ rps: 1 }]))).toBe('native');
	});
});
