'use strict';
// Fault injection: servers that reset, stall, lie about lengths, send broken
// framing or compression, huge headers, redirect loops. Each case asserts
// what the caller sees, and the process stays healthy.
const zlib = require('zlib');
const http = require('http');
const getRequest = require('..');
const { startRawServer, reply } = require('./helpers/raw-server');
const { startServer, json } = require('./helpers/server');

const request = getRequest({});
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const collect = async (stream) => {
	const chunks = [];
	for await (const chunk of stream) chunks.push(chunk);
	return Buffer.concat(chunks);
};
let healthy;
beforeAll(async () => {
	healthy = await startServer({ '/ok': json(200, { ok: true }) });
});
afterAll(() => healthy.close());
afterEach(async () => {
	// The process is still healthy: a normal request succeeds.
	const response = await request.send({ url: `${healthy.url}/ok` });
	expect(response.body).toEqual({ ok: true });
});

describe('connection resets', () => {
	it.each([
		['before the status line', (s) => s.destroy()],
		['after the headers', (s) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'); setTimeout(() => s.destroy(), 20); }],
		['mid-body', (s) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(5000)); setTimeout(() => s.destroy(), 20); }],
	])('send() rejects on a reset %s', async (name, behave) => {
		const server = await startRawServer(behave);
		const err = await request.send({ url: `${server.url}/x` }).catch((e) => e);
		expect(err).toBeInstanceOf(Error);
		// Node's fetch: 'fetch failed' before the response, 'terminated' after.
		expect(err.message).toMatch(/^(fetch failed|terminated)$/);
		expect(err.statusCode).toBeUndefined();
		await server.close();
	});

	it('send() with retries: 2 recovers when the server then behaves', async () => {
		const server = await startRawServer((socket, head, index) => {
			if (index < 2) socket.destroy();
			else reply(socket, 200, { 'Content-Type': 'application/json', 'Content-Length': 11, Connection: 'close' }, '{"fine":1}\n');
		});
		const response = await request.send({ url: `${server.url}/x`, retries: 2 });
		expect(response.body).toEqual({ fine: 1 });
		expect(server.connections()).toBe(3);
		await server.close();
	});

	it('stream() rejects on a reset before the status line, and errors on one mid-body', async () => {
		const before = await startRawServer((s) => s.destroy());
		await expect(request.stream({ url: `${before.url}/x` })).rejects.toThrow(/failed/);
		await before.close();
		const mid = await startRawServer((s) => {
			s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(5000));
			setTimeout(() => s.destroy(), 50);
		});
		const stream = await request.stream({ url: `${mid.url}/x` });
		await expect(collect(stream)).rejects.toThrow('Premature close');
		await mid.close();
	});
});

describe('servers that never answer', () => {
	it('send() fails at its timeout and closes the connection', async () => {
		const server = await startRawServer(() => {});
		await expect(request.send({ url: `${server.url}/x`, timeout: 200 })).rejects.toThrow('network timeout');
		for (let i = 0; i < 40 && server.open() > 0; i++) await delay(25);
		expect(server.open()).toBe(0);
		await server.close();
	});

	it('a stream (no timeout) is cancelled by its signal, before and after it resolved', async () => {
		const silent = await startRawServer(() => {});
		const controller = new AbortController();
		const pending = request.stream({ url: `${silent.url}/x`, signal: controller.signal });
		setTimeout(() => controller.abort(), 100);
		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
		await silent.close();
		const stalled = await startRawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc'));
		const controller2 = new AbortController();
		const stream = await request.stream({ url: `${stalled.url}/x`, signal: controller2.signal });
		setTimeout(() => controller2.abort(), 100);
		await expect(collect(stream)).rejects.toMatchObject({ name: 'AbortError' });
		for (let i = 0; i < 40 && stalled.open() > 0; i++) await delay(25);
		expect(stalled.open()).toBe(0);
		await stalled.close();
	});
});

describe('lying and broken bodies', () => {
	it('Content-Length larger than the body (connection closed early)', async () => {
		const server = await startRawServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort'));
		await expect(request.send({ url: `${server.url}/x` })).rejects.toThrow('terminated');
		const stream = await request.stream({ url: `${server.url}/x` });
		await expect(collect(stream)).rejects.toThrow('Premature close');
		await server.close();
	});

	it('invalid chunked framing', async () => {
		const server = await startRawServer((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n'));
		await expect(request.send({ url: `${server.url}/x` })).rejects.toThrow('terminated');
		const stream = await request.stream({ url: `${server.url}/x` });
		await expect(collect(stream)).rejects.toThrow(/failed/);
		await server.close();
	});

	it('a corrupt gzip fails send() and errors stream(); a truncated one yields its data', async () => {
		const gz = zlib.gzipSync(Buffer.alloc(20000, 'q'));
		const corrupt = Buffer.from(gz);
		for (let i = 12; i < 40; i++) corrupt[i] ^= 0xa5;
		const truncated = gz.subarray(0, gz.length - 6);
		const server = await startRawServer((s, head) => {
			const body = head.includes('/corrupt') ? corrupt : truncated;
			s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
		});
		await expect(request.send({ url: `${server.url}/corrupt` })).rejects.toThrow(/invalid compressed response body/);
		await expect(collect(await request.stream({ url: `${server.url}/corrupt` }))).rejects.toThrow(/invalid compressed/);
		const response = await request.send({ url: `${server.url}/truncated` });
		expect(response.body).toBe('q'.repeat(20000));
		expect((await collect(await request.stream({ url: `${server.url}/truncated` }))).length).toBe(20000);
		await server.close();
	});

	it('a JSON content type with invalid JSON', async () => {
		const server = await startRawServer((s) => reply(s, 200, { 'Content-Type': 'application/json', 'Content-Length': 8 }, '{"broken'));
		await expect(request.send({ url: `${server.url}/x` })).rejects.toThrow(SyntaxError);
		await server.close();
	});
});

describe('hostile headers and redirects', () => {
	it('1 MB of headers and 10,000 header lines give a clear error', async () => {
		const big = await startRawServer((s) => reply(s, 200, { 'X-Big': 'a'.repeat(1024 * 1024), 'Content-Length': 0 }));
		await expect(request.send({ url: `${big.url}/x` })).rejects.toThrow(/failed/);
		await big.close();
		const many = await startRawServer((s) => {
			const lines = Array.from({ length: 10000 }, (_, i) => `X-H${i}: v`).join('\r\n');
			s.end(`HTTP/1.1 200 OK\r\n${lines}\r\nContent-Length: 0\r\n\r\n`);
		});
		await expect(request.send({ url: `${many.url}/x` })).rejects.toThrow(/failed/);
		await many.close();
	});

	it('a redirect loop fails with a clear too-many-redirects error', async () => {
		const server = await startServer({ '*': (req, res) => { res.writeHead(302, { Location: '/again' }); res.end(); } });
		await expect(request.send({ url: `${server.url}/start` })).rejects.toThrow(/too many redirects/);
		expect(server.requests.length).toBe(21);
		await server.close();
	});

	it('a redirect to another host never carries the Authorization header', async () => {
		const other = await startServer({ '*': json(200, { landed: true }) });
		const otherHost = other.url.replace('127.0.0.1', 'localhost');
		const first = await startServer({ '/go': (req, res) => { res.writeHead(302, { Location: `${otherHost}/landing` }); res.end(); } });
		const response = await request.send({ url: `${first.url}/go`, headers: { Authorization: 'Bearer SECRET' } });
		expect(response.body).toEqual({ landed: true });
		expect(first.last().headers.authorization).toBe('Bearer SECRET');
		expect(other.last().headers.authorization).toBeUndefined();
		await first.close();
		await other.close();
	});
});

describe('load', () => {
	it('2,000 concurrent send()s all settle once, none lost or duplicated', async () => {
		const server = await startServer({ '*': (req, res, rec) => json(200, { path: rec.url })(req, res) });
		const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => request.send({ url: `${server.url}/n/${i}` }).then((r) => r.body.path)));
		expect(results).toEqual(Array.from({ length: 2000 }, (_, i) => `/n/${i}`));
		expect(server.requests.length).toBe(2000);
		expect(new Set(server.requests.map((r) => r.url)).size).toBe(2000);
		await server.close();
	}, 60000);

	it('50 concurrent streams all complete intact', async () => {
		const server = await startServer({
			'*': (req, res, rec) => {
				const n = Number(rec.url.split('/').pop());
				const body = Buffer.alloc(256 * 1024 + n, n);
				res.writeHead(200, { 'Content-Length': String(body.length) });
				res.end(body);
			},
		});
		const lengths = await Promise.all(
			Array.from({ length: 50 }, async (_, i) => {
				const data = await collect(await request.stream({ url: `${server.url}/s/${i}` }));
				expect(data.every((b) => b === i)).toBe(true);
				return data.length;
			}),
		);
		expect(lengths).toEqual(Array.from({ length: 50 }, (_, i) => 256 * 1024 + i));
		await server.close();
	}, 60000);
});
