'use strict';
// Streamed request bodies (lib/upload.js, src/engine/upload.rs): every kind
// of source, Content-Length when it is known, backpressure on a 1 GiB file,
// progress callbacks, re-sending on a 307, and a source that fails.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { Readable } = require('stream');
const { startServer } = require('./helpers/server');
const getRequest = require('..');

let server;
beforeAll(async () => {
	server = await startServer({
		'/echo': (req, res, record) => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(
				JSON.stringify({
					length: record.body.length,
					sha256: crypto.createHash('sha256').update(record.body).digest('hex'),
					contentLength: req.headers['content-length'] ?? null,
					transferEncoding: req.headers['transfer-encoding'] ?? null,
				}),
			);
		},
		'/redirect': (req, res) => {
			res.writeHead(307, { Location: '/echo' });
			res.end();
		},
	});
});
afterAll(() => server.close());

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const post = (body, extra = {}) =>
	getRequest().send({ baseUrl: server.url, url: '/echo', method: 'POST', body, ...extra });

describe('sources', () => {
	const expected = Buffer.from('first chunk|second|third and last');

	it('a Node Readable is sent chunked, byte for byte', async () => {
		const source = Readable.from([expected.subarray(0, 12), expected.subarray(12, 19), expected.subarray(19)]);
		const { body } = await post(source);
		expect(body).toEqual({ length: expected.length, sha256: sha256(expected), contentLength: null, transferEncoding: 'chunked' });
		expect(server.last().body).toEqual(expected);
	});

	it('a web ReadableStream', async () => {
		const source = new ReadableStream({
			start(controller) {
				controller.enqueue(new Uint8Array(expected.subarray(0, 5)));
				controller.enqueue(new Uint8Array(expected.subarray(5)));
				controller.close();
			},
		});
		await post(source);
		expect(server.last().body).toEqual(expected);
		expect(server.last().headers['transfer-encoding']).toBe('chunked');
	});

	it('an async iterable of strings and Uint8Arrays (strings as UTF-8)', async () => {
		async function* source() {
			yield 'héllo ';
			yield new Uint8Array([0, 1, 255]);
			yield Buffer.from(' end');
		}
		await post(source());
		expect(server.last().body).toEqual(Buffer.concat([Buffer.from('héllo '), Buffer.from([0, 1, 255]), Buffer.from(' end')]));
	});

	it('a function is called for the stream (once when nothing is re-sent)', async () => {
		let calls = 0;
		const { body } = await post(() => {
			calls += 1;
			return Readable.from([expected]);
		});
		expect(calls).toBe(1);
		expect(body.sha256).toBe(sha256(expected));
	});

	it('stream() takes a streamed body too', async () => {
		const response = await getRequest().stream({ baseUrl: server.url, url: '/echo', method: 'PUT', body: Readable.from([expected]) });
		const chunks = [];
		for await (const chunk of response) chunks.push(chunk);
		expect(JSON.parse(Buffer.concat(chunks).toString()).length).toBe(expected.length);
		expect(server.last().method).toBe('PUT');
		expect(server.last().body).toEqual(expected);
	});

	it('a chunk that is not bytes fails the call with a TypeError', async () => {
		await expect(post(Readable.from([{ not: 'bytes' }]))).rejects.toThrow(/Buffer, Uint8Array or string/);
	});
});

describe('Content-Length', () => {
	let dir;
	beforeAll(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-spec-'));
	});
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	it("the caller's Content-Length is sent, not chunked", async () => {
		const { body } = await post(Readable.from([Buffer.from('12345')]), { headers: { 'Content-Length': '5' } });
		expect(body).toMatchObject({ length: 5, contentLength: '5', transferEncoding: null });
	});

	it('a whole-file fs.ReadStream is sent with its size', async () => {
		const file = path.join(dir, 'whole.bin');
		const data = crypto.randomBytes(300 * 1024 + 7);
		fs.writeFileSync(file, data);
		const { body } = await post(fs.createReadStream(file));
		expect(body).toEqual({ length: data.length, sha256: sha256(data), contentLength: String(data.length), transferEncoding: null });
	});

	it('a file stream with a start is chunked (its length is not the file size)', async () => {
		const file = path.join(dir, 'part.bin');
		fs.writeFileSync(file, 'abcdefghij');
		const { body } = await post(fs.createReadStream(file, { start: 3 }));
		expect(body).toMatchObject({ length: 7, contentLength: null, transferEncoding: 'chunked' });
		expect(server.last().body.toString()).toBe('defghij');
	});

	it('a source shorter than the declared Content-Length fails the call', async () => {
		await expect(post(Readable.from([Buffer.from('123')]), { headers: { 'Content-Length': '10' } })).rejects.toThrow();
	});
});

describe('a 1 GiB upload from a file', () => {
	const SIZE = 1024 ** 3;
	// Markers at a few places of a sparse file, so that a chunk out of place
	// changes the hash (a file of zeros alone would not show it).
	const MARKS = [0, 64 * 1024 ** 2 + 5, 512 * 1024 ** 2 - 3, SIZE - 16];
	const marker = (i) => Buffer.from(`mark-${i}-${MARKS[i]}`.padEnd(16, '.')).subarray(0, 16);
	let dir;
	let file;
	beforeAll(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-gib-'));
		file = path.join(dir, 'big.img');
		fs.writeFileSync(file, '');
		fs.truncateSync(file, SIZE);
		const fd = fs.openSync(file, 'r+');
		MARKS.forEach((at, i) => fs.writeSync(fd, marker(i), 0, 16, at));
		fs.closeSync(fd);
	});
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	function expectedHash() {
		const hash = crypto.createHash('sha256');
		const zeros = Buffer.alloc(1024 * 1024);
		let at = 0;
		for (const [i, mark] of MARKS.entries()) {
			for (; at + zeros.length <= mark; at += zeros.length) hash.update(zeros);
			hash.update(zeros.subarray(0, mark - at));
			hash.update(marker(i));
			at = mark + 16;
		}
		for (; at < SIZE; at += Math.min(zeros.length, SIZE - at)) hash.update(zeros.subarray(0, Math.min(zeros.length, SIZE - at)));
		return hash.digest('hex');
	}

	it('arrives whole (sha256 on the server) with RSS growth under 64 MB', async () => {
		// The server hashes as the bytes arrive and keeps none of them.
		const hashing = http.createServer((req, res) => {
			const hash = crypto.createHash('sha256');
			let length = 0;
			req.on('data', (chunk) => {
				length += chunk.length;
				hash.update(chunk);
			});
			req.on('end', () => {
				res.setHeader('Content-Type', 'application/json');
				res.end(JSON.stringify({ length, sha256: hash.digest('hex'), contentLength: req.headers['content-length'] }));
			});
		});
		await new Promise((resolve) => hashing.listen(0, '127.0.0.1', resolve));
		try {
			// The instance (its HTTP client, TLS roots) exists before the baseline.
			const request = getRequest();
			global.gc?.();
			const before = process.memoryUsage().rss;
			let peak = before;
			const sampler = setInterval(() => {
				peak = Math.max(peak, process.memoryUsage().rss);
			}, 20);
			let progress;
			const { body } = await request.send({
				url: `http://127.0.0.1:${hashing.address().port}/`,
				method: 'PUT',
				body: fs.createReadStream(file),
				timeout: 120000,
				onUploadProgress: (event) => {
					progress = event;
				},
			});
			clearInterval(sampler);
			peak = Math.max(peak, process.memoryUsage().rss);
			expect(body.length).toBe(SIZE);
			expect(body.contentLength).toBe(String(SIZE));
			expect(body.sha256).toBe(expectedHash());
			expect(progress).toEqual({ loadedBytes: SIZE, total: SIZE });
			expect(peak - before).toBeLessThan(64 * 1024 * 1024);
		} finally {
			hashing.close();
		}
	}, 180000);
});

describe('progress', () => {
	async function* slowly(count, size, delayMs) {
		for (let i = 0; i < count; i += 1) {
			await new Promise((resolve) => setTimeout(resolve, delayMs));
			yield Buffer.alloc(size, i);
		}
	}

	it('onUploadProgress: throttled, never a step back, ending at the total', async () => {
		const events = [];
		const started = Date.now();
		await post(slowly(12, 1000, 30), {
			headers: { 'Content-Length': '12000' },
			onUploadProgress: (event) => events.push({ ...event, at: Date.now() - started }),
		});
		expect(events.length).toBeGreaterThanOrEqual(2);
		expect(events.length).toBeLessThanOrEqual(6);
		for (let i = 1; i < events.length; i += 1) {
			expect(events[i].loadedBytes).toBeGreaterThan(events[i - 1].loadedBytes);
		}
		// Between two reports at least ~100 ms, the last one excepted.
		for (let i = 1; i < events.length - 1; i += 1) {
			expect(events[i].at - events[i - 1].at).toBeGreaterThanOrEqual(90);
		}
		expect(events[events.length - 1]).toMatchObject({ loadedBytes: 12000, total: 12000 });
	});

	it('onUploadProgress with a whole body (JSON): sent with its length, reported at the end', async () => {
		const events = [];
		const value = { name: 'x'.repeat(200 * 1024) };
		const expected = Buffer.from(JSON.stringify(value));
		const { body } = await post(value, { onUploadProgress: (event) => events.push(event) });
		expect(body).toEqual({ length: expected.length, sha256: sha256(expected), contentLength: String(expected.length), transferEncoding: null });
		expect(server.last().headers['content-type']).toBe('application/json');
		expect(events[events.length - 1]).toEqual({ loadedBytes: expected.length, total: expected.length });
	});

	it('onUploadProgress: total undefined when unknown', async () => {
		const events = [];
		await post(slowly(2, 10, 1), { onUploadProgress: (event) => events.push(event) });
		expect(events[events.length - 1]).toEqual({ loadedBytes: 20, total: undefined });
	});
});

describe('onDownloadProgress (send)', () => {
	let slow;
	beforeAll(async () => {
		// 8 pieces of 1000 bytes, 40 ms apart; with Content-Length unless ?chunked.
		slow = http.createServer(async (req, res) => {
			const chunked = req.url.includes('chunked');
			res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(chunked ? {} : { 'Content-Length': '8000' }) });
			for (let i = 0; i < 8; i += 1) {
				res.write(Buffer.alloc(1000, i));
				await new Promise((resolve) => setTimeout(resolve, 40));
			}
			res.end();
		});
		await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve));
	});
	afterAll(() => slow.close());

	it('reports as the body arrives, never a step back, ending at the total', async () => {
		const events = [];
		const response = await getRequest().send({
			url: `http://127.0.0.1:${slow.address().port}/`,
			responseFormat: 'blob',
			onDownloadProgress: (event) => events.push(event),
		});
		expect((await response.body.arrayBuffer()).byteLength).toBe(8000);
		expect(events.length).toBeGreaterThanOrEqual(2);
		expect(events.length).toBeLessThanOrEqual(6);
		for (let i = 1; i < events.length; i += 1) {
			expect(events[i].loadedBytes).toBeGreaterThan(events[i - 1].loadedBytes);
		}
		expect(events.every((event) => event.total === 8000)).toBe(true);
		expect(events[events.length - 1]).toEqual({ loadedBytes: 8000, total: 8000 });
	});

	it('total is undefined for a chunked body', async () => {
		const events = [];
		await getRequest().send({
			url: `http://127.0.0.1:${slow.address().port}/chunked`,
			responseFormat: 'blob',
			onDownloadProgress: (event) => events.push(event),
		});
		expect(events[events.length - 1]).toEqual({ loadedBytes: 8000, total: undefined });
	});
});

describe('sending again', () => {
	const expected = Buffer.from('body that must be sent twice');

	it('a 307 with a function body calls it again and re-sends the body', async () => {
		let calls = 0;
		const before = server.requests.length;
		const { body } = await getRequest().send({
			baseUrl: server.url,
			url: '/redirect',
			method: 'POST',
			body: () => {
				calls += 1;
				return Readable.from([expected]);
			},
		});
		expect(calls).toBe(2);
		expect(body.sha256).toBe(sha256(expected));
		const [first, second] = server.requests.slice(before);
		expect([first.path, second.path]).toEqual(['/redirect', '/echo']);
		expect(first.body).toEqual(expected);
		expect(second.body).toEqual(expected);
	});

	it('a 307 with a plain stream fails clearly (never re-sent empty)', async () => {
		const before = server.requests.length;
		const call = getRequest().send({ baseUrl: server.url, url: '/redirect', method: 'POST', body: Readable.from([expected]) });
		await expect(call).rejects.toThrow(/already sent.*pass a function that returns the stream/);
		expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/redirect']);
	});
});

describe('failures', () => {
	it('a source that fails mid-way rejects with its error, and the server sees an aborted request', async () => {
		let serverSaw;
		const sawIt = new Promise((resolve) => {
			serverSaw = resolve;
		});
		const aborting = http.createServer((req) => {
			let length = 0;
			req.on('data', (chunk) => {
				length += chunk.length;
			});
			req.on('end', () => serverSaw({ ended: true, length }));
			req.on('close', () => serverSaw({ ended: req.complete, length }));
		});
		await new Promise((resolve) => aborting.listen(0, '127.0.0.1', resolve));
		const failure = new Error('the disk went away');
		async function* source() {
			yield Buffer.alloc(64 * 1024, 1);
			await new Promise((resolve) => setTimeout(resolve, 50));
			throw failure;
		}
		try {
			const call = getRequest().send({ url: `http://127.0.0.1:${aborting.address().port}/`, method: 'POST', body: source() });
			await expect(call).rejects.toBe(failure);
			const seen = await sawIt;
			expect(seen.ended).toBe(false);
			expect(seen.length).toBeGreaterThan(0);
		} finally {
			aborting.close();
		}
	});

	it('a request that cannot be sent closes the source', async () => {
		const unused = http.createServer();
		await new Promise((resolve) => unused.listen(0, '127.0.0.1', resolve));
		const port = unused.address().port;
		await new Promise((resolve) => unused.close(resolve));
		const source = new Readable({ read() {} });
		source.push(Buffer.alloc(1024));
		await expect(getRequest().send({ url: `http://127.0.0.1:${port}/`, method: 'POST', body: source })).rejects.toThrow('fetch failed');
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(source.destroyed).toBe(true);
	});

	it('a body function that throws rejects the call with its error', async () => {
		const failure = new Error('cannot open');
		await expect(
			post(() => {
				throw failure;
			}),
		).rejects.toBe(failure);
	});
});
