#!/usr/bin/env node
'use strict';
// One benchmark run in its own process: `node client.js <client> <scenario>
// <json params>`; prints one JSON line of results. bench/run.js starts it
// pinned to its own core.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { Readable, Writable } = require('stream');
const { pipeline } = require('stream/promises');
const { monitorEventLoopDelay } = require('perf_hooks');
const { PROTOCOL_HEADER, undiciDispatcher } = require('./tls');
const { inflateCeiling } = require('./ceiling');

const [clientName, scenario, paramsText] = process.argv.slice(2);
const params = JSON.parse(paramsText);
const base = params.base;

const hooks = () => [
	{ request: (o) => { o.headers['X-Balena-Client'] = 'bench'; return o; } },
	{ response: (r) => r },
];

// Each client as the same operations: `send` (resolve with the parsed
// body), `stream` (resolve with a Node Readable of the decoded body) and
// `protocol` (one GET /small: the protocol the server says it served).
// With `params.ca` (the HTTPS scenario) undici gets the CA; the others
// trust it through NODE_EXTRA_CA_CERTS (see tls.js).
function makeClient(name, withHooks) {
	switch (name) {
		case 'native':
		case 'native-policies':
		case 'balena-request': {
			const pkg = name === 'balena-request' ? require('balena-request') : require('..');
			const request = pkg.getRequest({ interceptors: withHooks ? hooks() : [] });
			if (name === 'native-policies') {
				// Issue 13's cost check: retry and log (its default sink,
				// stderr, which bench/run.js sends to /dev/null here).
				request.pipeline.addPolicy(pkg.policies.retry(), { phase: 'Retry' });
				request.pipeline.addPolicy(pkg.policies.log());
			}
			return {
				send: async (options) => (await request.send({ baseUrl: base, ...options })).body,
				stream: (url) => request.stream({ baseUrl: base, url }),
				protocol: async () => (await request.send({ baseUrl: base, url: '/small' })).headers.get(PROTOCOL_HEADER),
			};
		}
		case 'undici':
		case 'undici-h2': {
			const undici = require('undici');
			// The global dispatcher is a default Agent too: the plain rows are unchanged.
			const dispatcher = params.ca ? undiciDispatcher(undici, name, params.ca) : undefined;
			return {
				send: async ({ url, method = 'GET', body }) => {
					const res = await undici.request(base + url, {
						dispatcher,
						method,
						body: body && JSON.stringify(body),
						headers: body ? { 'content-type': 'application/json' } : undefined,
					});
					return res.body.json();
				},
				stream: async (url) => {
					const res = await undici.request(base + url, { dispatcher });
					return res.headers['content-encoding'] === 'gzip' ? res.body.pipe(zlib.createGunzip()) : res.body;
				},
				protocol: async () => {
					const res = await undici.request(`${base}/small`, { dispatcher });
					await res.body.dump();
					return res.headers[PROTOCOL_HEADER];
				},
			};
		}
		case 'fetch':
			return {
				send: async ({ url, method = 'GET', body }) => {
					const res = await fetch(base + url, {
						method,
						body: body && JSON.stringify(body),
						headers: body ? { 'content-type': 'application/json' } : undefined,
					});
					return res.json();
				},
				stream: async (url) => Readable.fromWeb((await fetch(base + url)).body),
				protocol: async () => {
					const res = await fetch(`${base}/small`);
					await res.arrayBuffer();
					return res.headers.get(PROTOCOL_HEADER);
				},
			};
		default:
			throw new Error(`unknown client ${name}`);
	}
}

const cpuMicros = () => {
	const u = process.cpuUsage();
	return u.user + u.system;
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/**
 * `concurrency` workers send back to back: first `warmup` requests
 * (connections, JIT: a JavaScript client is slow until its code is
 * optimised, so a short run mostly measures that), then as many as finish
 * in a window of `seconds`, which is what is reported. With `checkProtocol`,
 * one more request after the window asks which protocol was served.
 */
async function sendScenario(client, { warmup, seconds, concurrency, post, checkProtocol }) {
	const body = post ? { data: 'x'.repeat(1000) } : undefined;
	const options = post ? { url: '/post', method: 'POST', body } : { url: '/small' };
	const run = async (keepGoing, onDone) =>
		Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (keepGoing()) {
					const start = process.hrtime.bigint();
					const result = await client.send(options);
					if (!result || !result.d) throw new Error('bad body');
					onDone(Number(process.hrtime.bigint() - start) / 1e6);
				}
			}),
		);
	let warmed = 0;
	await run(() => warmed < warmup, () => warmed++);
	const latencies = [];
	const cpu0 = cpuMicros();
	const t0 = process.hrtime.bigint();
	const until = t0 + BigInt(Math.round(seconds * 1e9));
	await run(() => process.hrtime.bigint() < until, (ms) => latencies.push(ms));
	const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
	const cpu = cpuMicros() - cpu0;
	const sorted = latencies.sort((a, b) => a - b);
	const n = latencies.length;
	const protocol = checkProtocol ? await client.protocol() : undefined;
	return { rps: n / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuPerReq: cpu / n, protocol };
}

// `gzip`: 'image' (an OS-image-like body, served in 64 MiB gzip members),
// 'dense' (a synthetic body that is the worst case for inflate) or absent.
const streamPath = (gzip, mib) => `/${{ image: 'gzip-image', dense: 'gzip' }[gzip] ?? 'plain'}?mib=${mib}`;

async function streamScenario(client, { mib, gzip, sink, rateMBs }) {
	// Warm up (runtime, connection pool, TLS roots) before the baseline.
	for await (const chunk of await client.stream(streamPath(gzip, gzip === 'image' ? 64 : 1))) void chunk;
	const rss0 = process.memoryUsage().rss;
	let peakRss = rss0;
	const sampler = setInterval(() => {
		peakRss = Math.max(peakRss, process.memoryUsage().rss);
	}, 50);
	const loop = monitorEventLoopDelay({ resolution: 1 });
	loop.enable();
	const cpu0 = cpuMicros();
	const t0 = process.hrtime.bigint();
	const stream = await client.stream(streamPath(gzip, mib));
	let length = 0;
	let target;
	if (sink === 'file') {
		const file = path.join(os.tmpdir(), `brn-bench-${process.pid}.img`);
		stream.on('data', (chunk) => { length += chunk.length; });
		await pipeline(stream, fs.createWriteStream(file));
		fs.rmSync(file, { force: true });
	} else {
		const bytesPerMs = rateMBs ? (rateMBs * 1e6) / 1000 : 0;
		target = new Writable({
			highWaterMark: 1024 * 1024,
			write(chunk, enc, callback) {
				length += chunk.length;
				if (bytesPerMs) setTimeout(callback, chunk.length / bytesPerMs);
				else callback();
			},
		});
		await pipeline(stream, target);
	}
	const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
	const cpu = cpuMicros() - cpu0;
	clearInterval(sampler);
	loop.disable();
	if (length !== mib * 1024 * 1024) throw new Error(`length ${length} != ${mib} MiB`);
	return {
		MBs: length / 1e6 / seconds,
		cpuSeconds: cpu / 1e6,
		rssGrowthMB: (peakRss - rss0) / 1e6,
		peakRssMB: peakRss / 1e6,
		loopP99ms: loop.percentile(99) / 1e6,
	};
}

async function run() {
	// Not a client: our decoder alone, for the gzip scenarios' ceiling row.
	if (clientName === 'inflate-ceiling') return inflateCeiling(base + streamPath(params.gzip, 64), params.seconds);
	const client = makeClient(clientName, scenario === 'send-hooks');
	return scenario.startsWith('send') ? sendScenario(client, params) : streamScenario(client, params);
}

(async () => {
	const result = await run();
	process.stdout.write(`${JSON.stringify(result)}\n`);
	process.exit(0);
})().catch((err) => {
	console.error(err);
	process.exit(1);
});
