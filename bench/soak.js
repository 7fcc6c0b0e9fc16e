#!/usr/bin/env node
'use strict';
// Soak: many send()s and stream()s in one process; RSS after the soak must
// stay within 50 MB of RSS after warm-up. `npm run soak` (add `-- --quick`
// for a tenth of it). Not part of `npm test`: it takes minutes.
const http = require('http');
const getRequest = require('..');

const quick = process.argv.includes('--quick');
const SENDS = quick ? 10000 : 100000;
const STREAMS = quick ? 20 : 200;
const STREAM_BYTES = 8 * 1024 * 1024;
const CONCURRENCY = 32;
const LIMIT_MB = 50;

const small = JSON.stringify({ d: [{ id: 1, device_name: 'soak', is_online: true }] });
const block = Buffer.alloc(1024 * 1024, 'soak');

const server = http.createServer((req, res) => {
	if (req.url.startsWith('/stream')) {
		res.writeHead(200, { 'Content-Length': String(STREAM_BYTES) });
		let sent = 0;
		const pump = () => {
			while (sent < STREAM_BYTES) {
				sent += block.length;
				if (!res.write(block)) return;
			}
			res.end();
		};
		res.on('drain', pump);
		pump();
	} else {
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end(small);
	}
});

const rssMB = () => process.memoryUsage().rss / 1e6;

async function sends(request, base, n) {
	let next = 0;
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			while (next < n) {
				next++;
				const response = await request.send({ baseUrl: base, url: '/small', headers: { 'X-N': String(next) } });
				if (response.body.d[0].device_name !== 'soak') throw new Error('bad body');
			}
		}),
	);
}

async function streams(request, base, n) {
	for (let i = 0; i < n; i++) {
		const stream = await request.stream({ baseUrl: base, url: `/stream/${i}` });
		let length = 0;
		for await (const chunk of stream) length += chunk.length;
		if (length !== STREAM_BYTES) throw new Error(`stream ${i}: ${length} bytes`);
	}
}

server.listen(0, '127.0.0.1', async () => {
	const base = `http://127.0.0.1:${server.address().port}`;
	const request = getRequest({ interceptors: [{ request: (o) => o, response: (r) => r }] });
	await sends(request, base, 2000);
	await streams(request, base, 5);
	global.gc?.();
	const warm = rssMB();
	const started = Date.now();
	for (let round = 0; round < 10; round++) {
		await sends(request, base, SENDS / 10);
		await streams(request, base, STREAMS / 10);
		console.log(`round ${round + 1}/10: rss ${rssMB().toFixed(1)} MB`);
	}
	global.gc?.();
	await new Promise((resolve) => setTimeout(resolve, 500));
	const after = rssMB();
	const grown = after - warm;
	console.log(`${SENDS} sends, ${STREAMS} streams of 8 MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	console.log(`rss after warm-up ${warm.toFixed(1)} MB, after soak ${after.toFixed(1)} MB, growth ${grown.toFixed(1)} MB (limit ${LIMIT_MB} MB)`);
	server.close();
	process.exit(grown <= LIMIT_MB ? 0 : 1);
});
