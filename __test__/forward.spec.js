'use strict';
// request.forward (lib/forward.js): a front server that forwards every
// request to an upstream through the engine; a real client talks to the
// front, and the upstream records what arrived.
const crypto = require('crypto');
const http = require('http');
const zlib = require('zlib');
const { startServer } = require('./helpers/server');
const { startRawServer } = require('./helpers/raw-server');
const { makeAuth, makeJwt } = require('./helpers/auth');
const getRequest = require('..');

/** A front server forwarding to `upstreamUrl`; `outcomes` gets each forward's result. */
async function startFront(request, upstreamUrl) {
	const outcomes = [];
	const server = http.createServer((req, res) => {
		outcomes.push(
			request.forward(req, res, { baseUrl: upstreamUrl }).then(
				() => ({ ok: true }),
				(error) => ({ ok: false, error }),
			),
		);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		outcomes,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** A raw client request (no decoding): `{ status, headers, rawHeaders, body }` or `{ error }`. */
function fetchRaw(url, { method = 'GET', headers = {}, body } = {}) {
	return new Promise((resolve) => {
		const req = http.request(url, { method, headers, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (chunk) => chunks.push(chunk));
			res.on('end', () =>
				resolve({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
			);
			res.on('error', (error) => resolve({ status: res.statusCode, headers: res.headers, error }));
			res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, error: new Error('aborted') }));
		});
		req.on('error', (error) => resolve({ error }));
		req.end(body);
	});
}

let upstream;
let front;
const gzipped = zlib.gzipSync(Buffer.from('compressed body '.repeat(1000)));
beforeAll(async () => {
	upstream = await startServer({
		'/hello': (req, res) => {
			res.writeHead(201, { 'Content-Type': 'text/plain', 'X-Custom': 'yes' });
			res.end('hello from upstream');
		},
		'/echo': (req, res, record) => {
			res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
			res.end(record.body);
		},
		'/gzip': (req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': gzipped.length });
			res.end(gzipped);
		},
		'/missing': (req, res) => {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('no such thing');
		},
	});
	front = await startFront(getRequest(), upstream.url);
});
afterAll(async () => {
	await front.close();
	await upstream.close();
});

describe('forwarding', () => {
	it('GET: status, headers and body come back; method, path and query go up', async () => {
		const reply = await fetchRaw(`${front.url}/hello?a=1&b=%20`);
		expect(reply.status).toBe(201);
		expect(reply.headers['x-custom']).toBe('yes');
		expect(reply.headers['content-type']).toBe('text/plain');
		expect(reply.body.toString()).toBe('hello from upstream');
		expect(upstream.last()).toMatchObject({ method: 'GET', url: '/hello?a=1&b=%20' });
		expect(upstream.last().headers['transfer-encoding']).toBeUndefined();
	});

	it('an error status is passed on as it came', async () => {
		const reply = await fetchRaw(`${front.url}/missing`);
		expect(reply.status).toBe(404);
		expect(reply.body.toString()).toBe('no such thing');
	});

	it('POST: the body goes up byte for byte (with its length)', async () => {
		const body = crypto.randomBytes(300 * 1024);
		const reply = await fetchRaw(`${front.url}/echo`, { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } });
		expect(upstream.last().method).toBe('POST');
		expect(upstream.last().body.equals(body)).toBe(true);
		expect(upstream.last().headers['content-length']).toBe(String(body.length));
		expect(reply.body.equals(body)).toBe(true);
	});

	it('a gzip body passes through undecoded, with its Content-Encoding; the client\'s Accept-Encoding goes up', async () => {
		const reply = await fetchRaw(`${front.url}/gzip`, { headers: { 'Accept-Encoding': 'gzip' } });
		expect(reply.headers['content-encoding']).toBe('gzip');
		expect(reply.headers['content-length']).toBe(String(gzipped.length));
		expect(reply.body.equals(gzipped)).toBe(true);
		expect(upstream.last().headers['accept-encoding']).toBe('gzip');
	});

	it('no header of our own: no Accept-Encoding or User-Agent the client did not send', async () => {
		await fetchRaw(`${front.url}/hello`);
		const sent = upstream.last().headers;
		expect(sent['accept-encoding']).toBeUndefined();
		expect(sent['user-agent']).toBeUndefined();
		// reqwest's client default, which means what no Accept means.
		expect(sent.accept).toBe('*/*');
	});

	it('Host is the upstream\'s', async () => {
		await fetchRaw(`${front.url}/hello`, { headers: { Host: 'front.example' } });
		expect(upstream.last().headers.host).toBe(new URL(upstream.url).host);
	});
});

describe('forwarding through request interceptors', () => {
	it('stays a forward when a hook returns a brand-new options object', async () => {
		const request = getRequest();
		// Only the fields it knows of: no marker of ours survives this.
		request.interceptors.push({
			request: (o) => ({ url: o.url, baseUrl: o.baseUrl, method: o.method, headers: { ...o.headers, 'X-Hooked': '1' }, body: o.body }),
		});
		const hooked = await startFront(request, upstream.url);
		try {
			const reply = await fetchRaw(`${hooked.url}/gzip`, { headers: { 'Accept-Encoding': 'gzip' } });
			expect(reply.headers['content-encoding']).toBe('gzip');
			expect(reply.body.equals(gzipped)).toBe(true);
			expect(upstream.last().headers['x-hooked']).toBe('1');
			const missing = await fetchRaw(`${hooked.url}/missing`);
			expect(missing.status).toBe(404);
			expect(missing.body.toString()).toBe('no such thing');
		} finally {
			await hooked.close();
		}
	});
});

describe('hop-by-hop headers', () => {
	it('are dropped both ways, with those Connection names', async () => {
		const raw = await startRawServer((socket, head) => {
			raw.head = head;
			socket.end(
				'HTTP/1.1 200 OK\r\nConnection: X-Hop, close\r\nX-Hop: secret\r\nKeep-Alive: timeout=99\r\n' +
					'Proxy-Authenticate: Basic\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nX-Kept: 1\r\nContent-Length: 2\r\n\r\nok',
			);
		});
		const hopFront = await startFront(getRequest(), raw.url);
		try {
			const reply = await fetchRaw(`${hopFront.url}/`, {
				headers: {
					Connection: 'keep-alive, X-Drop',
					'X-Drop': 'dropped',
					'Keep-Alive': 'timeout=5',
					TE: 'trailers',
					'Proxy-Authorization': 'Basic c2VjcmV0',
					'X-Kept': 'kept',
				},
			});
			expect(reply.body.toString()).toBe('ok');
			const sent = raw.head.toLowerCase();
			expect(sent).toContain('x-kept: kept');
			for (const name of ['x-drop', 'keep-alive', 'te', 'proxy-authorization']) {
				expect(sent).not.toContain(`\r\n${name}:`);
			}
			expect(reply.headers['x-kept']).toBe('1');
			for (const name of ['x-hop', 'proxy-authenticate', 'trailer', 'upgrade']) {
				expect(reply.headers[name]).toBeUndefined();
			}
			// The front's own Keep-Alive may be there; upstream's is not.
			expect(reply.headers['keep-alive']).not.toBe('timeout=99');
		} finally {
			await hopFront.close();
			await raw.close();
		}
	});
});

describe('auth', () => {
	it("the instance's token replaces the client's Authorization", async () => {
		const auth = makeAuth();
		const token = makeJwt();
		await auth.setKey(token);
		const authFront = await startFront(getRequest({ auth }), upstream.url);
		try {
			await fetchRaw(`${authFront.url}/hello`, { headers: { Authorization: 'Bearer client-token' } });
			expect(upstream.last().headers.authorization).toBe(`Bearer ${token}`);
		} finally {
			await authFront.close();
		}
	});
});

describe('failures', () => {
	it('the client going away cancels the upstream request', async () => {
		let upstreamSawClose;
		const closed = new Promise((resolve) => {
			upstreamSawClose = resolve;
		});
		const slow = http.createServer((req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain' });
			res.write('first part');
			res.on('close', () => upstreamSawClose(res.writableFinished));
		});
		await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve));
		const slowFront = await startFront(getRequest(), `http://127.0.0.1:${slow.address().port}`);
		try {
			await new Promise((resolve) => {
				const req = http.get(`${slowFront.url}/`, { agent: false }, (res) => {
					res.once('data', () => {
						req.destroy();
						resolve();
					});
				});
				req.on('error', () => {});
			});
			expect(await closed).toBe(false);
			const outcome = await slowFront.outcomes[0];
			expect(outcome.ok).toBe(false);
		} finally {
			await slowFront.close();
			slow.close();
		}
	});

	it('the client going away before the reply head cancels the upstream request', async () => {
		let upstreamSawClose;
		const closed = new Promise((resolve) => {
			upstreamSawClose = resolve;
		});
		let arrived;
		const arrivedUp = new Promise((resolve) => {
			arrived = resolve;
		});
		const silent = http.createServer((req) => {
			arrived();
			req.socket.on('close', () => upstreamSawClose(true));
		});
		await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const silentFront = await startFront(getRequest(), `http://127.0.0.1:${silent.address().port}`);
		try {
			const req = http.get(`${silentFront.url}/`, { agent: false });
			req.on('error', () => {});
			await arrivedUp;
			req.destroy();
			expect(await closed).toBe(true);
			const outcome = await silentFront.outcomes[0];
			expect(outcome.ok).toBe(false);
			expect(outcome.error.name).toBe('AbortError');
		} finally {
			await silentFront.close();
			silent.close();
		}
	});

	it('upstream refusing: the client gets 502', async () => {
		const gone = http.createServer();
		await new Promise((resolve) => gone.listen(0, '127.0.0.1', resolve));
		const port = gone.address().port;
		await new Promise((resolve) => gone.close(resolve));
		const deadFront = await startFront(getRequest(), `http://127.0.0.1:${port}`);
		try {
			const reply = await fetchRaw(`${deadFront.url}/`);
			expect(reply.status).toBe(502);
			const outcome = await deadFront.outcomes[0];
			expect(outcome.ok).toBe(false);
			expect(outcome.error.code).toBe('ECONNREFUSED');
		} finally {
			await deadFront.close();
		}
	});

	it('upstream dying mid-body: the client connection is destroyed', async () => {
		const raw = await startRawServer((socket) => {
			socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
			socket.write(Buffer.alloc(1000, 7), () => setTimeout(() => socket.destroy(), 30));
		});
		const dyingFront = await startFront(getRequest(), raw.url);
		try {
			const reply = await fetchRaw(`${dyingFront.url}/`);
			expect(reply.status).toBe(200);
			expect(reply.error).toBeDefined();
			const outcome = await dyingFront.outcomes[0];
			expect(outcome.ok).toBe(false);
		} finally {
			await dyingFront.close();
			await raw.close();
		}
	});
});
