'use strict';
// The native policies (lib/policies.js, src/pipeline/policies/) against a
// real local server: what the server received and what the caller got.
const http = require('http');
const net = require('net');
const { Readable } = require('stream');
const { getRequest, policies } = require('..');

/** A server that records every request and answers with `respond`. */
async function recordingServer(respond) {
	const seen = [];
	let inFlight = 0;
	let maxInFlight = 0;
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			const entry = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now(), port: req.socket.remotePort };
			seen.push(entry);
			inFlight++;
			maxInFlight = Math.max(maxInFlight, inFlight);
			try {
				await respond(req, res, seen.length, entry);
			} finally {
				inFlight--;
			}
			if (!res.writableEnded) {
				res.setHeader('content-type', 'application/json');
				res.end(JSON.stringify({ n: seen.length, url: req.url }));
			}
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		seen,
		maxInFlight: () => maxInFlight,
		base: `http://127.0.0.1:${server.address().port}`,
		close: () =>
			new Promise((resolve) => {
				// A connection the client's pool opened but did not use (a
				// request raced it to a freed one) keeps close() waiting.
				server.closeAllConnections();
				server.close(resolve);
			}),
	};
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withPolicies(...list) {
	const request = getRequest({});
	for (const [policy, options] of list) {
		request.pipeline.addPolicy(policy, options);
	}
	return request;
}

describe('policy factories', () => {
	test('each returns a policy named after its factory', () => {
		const made = {
			defaultRequest: policies.defaultRequest({ headers: { a: '1' } }),
			pathPrefix: policies.pathPrefix({ prefix: '/v1' }),
			basicAuth: policies.basicAuth({ username: 'u' }),
			csrf: policies.csrf({ token: 't' }),
			errorCode: policies.errorCode({ code: 500 }),
			retry: policies.retry(),
			timeout: policies.timeout({ timeout: 10 }),
			location: policies.location(),
			mime: policies.mime({ mime: 'application/json' }),
			log: policies.log(),
			requestId: policies.requestId(),
			userAgent: policies.userAgent({ userAgentPrefix: 'x/1' }),
			concurrency: policies.concurrency({ max: 2 }),
		};
		for (const [name, policy] of Object.entries(made)) {
			expect(policy.name).toBe(name);
		}
		expect(Object.keys(policies).sort()).toEqual(Object.keys(made).sort());
	});

	test('wrong options throw at once, naming the policy and the option', () => {
		expect(() => policies.retry({ maxRetries: 'x' })).toThrow(/^retry: `maxRetries`/);
		expect(() => policies.timeout({})).toThrow(/^timeout: `timeout`/);
		expect(() => policies.pathPrefix({ prefix: 5 })).toThrow(/^pathPrefix/);
		expect(() => policies.log({ logger: 'stderr' })).toThrow(TypeError);
		expect(() => policies.retry([])).toThrow(/options must be an object/);
	});
});

describe('request.pipeline', () => {
	const js = (name) => ({ name, sendRequest: (request, next) => next(request) });

	test('starts with the built-in interceptors stage and orders by phase, as Azure does', () => {
		const request = getRequest({});
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['interceptors']);
		request.pipeline.addPolicy(js('signer'), { phase: 'Sign' });
		request.pipeline.addPolicy(js('retrier'), { phase: 'Retry' });
		request.pipeline.addPolicy(js('plain'));
		request.pipeline.addPolicy(js('deserializer'), { phase: 'Deserialize' });
		request.pipeline.addPolicy(js('first'), { phase: 'Serialize', beforePolicies: ['interceptors'] });
		request.pipeline.addPolicy(js('afterRetry'), { afterPhase: 'Retry' });
		// Azure's walk: while the Serialize phase waits ("interceptors" must
		// follow "first"), the phase-less policies are placed.
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual([
			'first',
			'plain',
			'interceptors',
			'deserializer',
			'retrier',
			'afterRetry',
			'signer',
		]);
	});

	test('before/after constraints, and the errors: duplicate, cycle, phase with afterPhase', () => {
		const request = getRequest({});
		request.pipeline.addPolicy(js('a'));
		request.pipeline.addPolicy(js('b'), { beforePolicies: ['a'] });
		request.pipeline.addPolicy(js('c'), { afterPolicies: ['a'] });
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['interceptors', 'b', 'a', 'c']);
		expect(() => request.pipeline.addPolicy(js('a'))).toThrow(/Duplicate policy names not allowed in pipeline: "a"/);
		expect(() => request.pipeline.addPolicy(js('d'), { beforePolicies: ['b'], afterPolicies: ['c'] })).toThrow(
			/requirements cycle: .*"d"/,
		);
		expect(() => request.pipeline.addPolicy(js('e'), { phase: 'Retry', afterPhase: 'Sign' })).toThrow(/afterPhase/);
		expect(() => request.pipeline.addPolicy(js('f'), { phase: 'Nope' })).toThrow(/phase must be one of/);
		// A refused policy leaves the pipeline as it was.
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['interceptors', 'b', 'a', 'c']);
		const removed = request.pipeline.removePolicy({ name: 'a' });
		expect(removed.map((p) => p.name)).toEqual(['a']);
		expect(request.pipeline.removePolicy({ name: 'interceptors' })).toEqual([]);
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['interceptors', 'b', 'c']);
		request.pipeline.addPolicy(js('s'), { phase: 'Sign' });
		expect(request.pipeline.removePolicy({ phase: 'Sign' }).map((p) => p.name)).toEqual(['s']);
	});

	test('a native policy cannot be ordered outside the interceptors', () => {
		const request = getRequest({});
		expect(() =>
			request.pipeline.addPolicy(policies.log(), { phase: 'Serialize', beforePolicies: ['interceptors'] }),
		).toThrow(/native policy "log" would run outside "interceptors"/);
		expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['interceptors']);
	});

	test('clone(): its own pipeline and interceptors, the same connection pool', async () => {
		const server = await recordingServer(() => {});
		try {
			const request = getRequest({ interceptors: [{ request: (o) => ({ ...o, headers: { ...o.headers, 'x-hook': 'yes' } }) }] });
			request.pipeline.addPolicy(policies.csrf({ token: 'tok' }));
			const copy = request.clone();
			copy.pipeline.removePolicy({ name: 'csrf' });
			copy.interceptors.push({ request: (o) => ({ ...o, headers: { ...o.headers, 'x-copy': 'yes' } }) });
			await request.send({ baseUrl: server.base, url: '/a' });
			await copy.send({ baseUrl: server.base, url: '/b' });
			const [a, b] = server.seen;
			expect([a.headers['x-csrf-token'], a.headers['x-hook'], a.headers['x-copy']]).toEqual(['tok', 'yes', undefined]);
			expect([b.headers['x-csrf-token'], b.headers['x-hook'], b.headers['x-copy']]).toEqual([undefined, 'yes', 'yes']);
			expect(request.interceptors).toHaveLength(1);
			// One keep-alive connection served both instances.
			expect(b.port).toBe(a.port);
		} finally {
			await server.close();
		}
	});
});

describe('request-shaping policies', () => {
	let server;
	beforeAll(async () => {
		server = await recordingServer(() => {});
	});
	afterAll(() => server.close());
	beforeEach(() => {
		server.seen.length = 0;
	});

	test('defaultRequest fills headers and baseUrl without overwriting the caller', async () => {
		const request = withPolicies([policies.defaultRequest({ baseUrl: server.base, headers: { 'X-A': 'default', 'X-B': 'default' } })]);
		const response = await request.send({ url: '/d', headers: { 'X-B': 'mine' } });
		expect(response.body.url).toBe('/d');
		expect([server.seen[0].headers['x-a'], server.seen[0].headers['x-b']]).toEqual(['default', 'mine']);
	});

	test('pathPrefix prefixes relative URLs with one slash at the join, not absolute ones', async () => {
		const request = withPolicies([policies.pathPrefix({ prefix: '/api/' })]);
		await request.send({ baseUrl: server.base, url: '/v1/x?q=1' });
		await request.send({ url: `${server.base}/abs` });
		expect(server.seen.map((s) => s.url)).toEqual(['/api/v1/x?q=1', '/abs']);
	});

	test('basicAuth adds Basic credentials unless the request has an Authorization', async () => {
		const request = withPolicies([policies.basicAuth({ username: 'user', password: 'pa:ss' })]);
		await request.send({ baseUrl: server.base, url: '/1' });
		await request.send({ baseUrl: server.base, url: '/2', headers: { Authorization: 'Bearer mine' } });
		expect(server.seen.map((s) => s.headers.authorization)).toEqual([
			`Basic ${Buffer.from('user:pa:ss').toString('base64')}`,
			'Bearer mine',
		]);
	});

	test('csrf sets its header when a token is known', async () => {
		await withPolicies([policies.csrf({ token: 't1' })]).send({ baseUrl: server.base, url: '/1' });
		await withPolicies([policies.csrf({ name: 'X-Other', token: 't2' })]).send({ baseUrl: server.base, url: '/2' });
		await withPolicies([policies.csrf({})]).send({ baseUrl: server.base, url: '/3' });
		expect(server.seen.map((s) => [s.headers['x-csrf-token'], s.headers['x-other']])).toEqual([
			['t1', undefined],
			[undefined, 't2'],
			[undefined, undefined],
		]);
	});

	test('userAgent prefixes the User-Agent; requestId adds a UUID unless one is given', async () => {
		const request = withPolicies([policies.userAgent({ userAgentPrefix: 'my-tool/2.0' })], [policies.requestId()]);
		await request.send({ baseUrl: server.base, url: '/1' });
		await request.send({ baseUrl: server.base, url: '/2', headers: { 'X-Request-Id': 'given' } });
		expect(server.seen[0].headers['user-agent']).toBe('my-tool/2.0 node');
		expect(server.seen[0].headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(server.seen[1].headers['x-request-id']).toBe('given');
	});
});

describe('response policies', () => {
	test('errorCode: code 500 makes a 404 resolve with its response; 400 stays an error', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(404, { 'content-type': 'application/json' });
			res.end('{"missing":true}');
		});
		try {
			const lenient = withPolicies([policies.errorCode({ code: 500 })]);
			const response = await lenient.send({ baseUrl: server.base, url: '/x' });
			expect([response.statusCode, response.body]).toEqual([404, { missing: true }]);
			await expect(getRequest({}).send({ baseUrl: server.base, url: '/x' })).rejects.toMatchObject({
				name: 'BalenaRequestError',
				statusCode: 404,
			});
			const strict = withPolicies([policies.errorCode({ code: 300 })]);
			await expect(strict.send({ baseUrl: server.base, url: '/x' })).rejects.toMatchObject({ statusCode: 404 });
		} finally {
			await server.close();
		}
	});

	test('location follows Location with a GET from the given status, 201 included', async () => {
		const server = await recordingServer((req, res) => {
			if (req.url === '/create') {
				res.writeHead(201, { location: '/created/7' });
				res.end();
			}
		});
		try {
			const follows = withPolicies([policies.location({ code: 201 })]);
			const response = await follows.send({ baseUrl: server.base, url: '/create', method: 'POST', body: { a: 1 } });
			expect(response.body.url).toBe('/created/7');
			expect(server.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /create', 'GET /created/7']);
			const plain = await getRequest({}).send({ baseUrl: server.base, url: '/create', method: 'POST' });
			expect(plain.statusCode).toBe(201);
		} finally {
			await server.close();
		}
	});

	test('mime decodes an urlencoded response and asks for its type', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
			res.end('a=1&b=two+words');
		});
		try {
			const request = withPolicies([policies.mime({ accept: 'application/x-www-form-urlencoded' })]);
			const response = await request.send({ baseUrl: server.base, url: '/f' });
			expect(response.body).toEqual({ a: '1', b: 'two words' });
			expect(server.seen[0].headers.accept).toBe('application/x-www-form-urlencoded');
			// Without the policy: the text, as upstream gives it.
			expect((await getRequest({}).send({ baseUrl: server.base, url: '/f' })).body).toBe('a=1&b=two+words');
		} finally {
			await server.close();
		}
	});
});

describe('retry', () => {
	test('retries a listed status with exponential backoff and returns the good response', async () => {
		const server = await recordingServer((req, res, n) => {
			if (n < 3) {
				res.writeHead(503);
				res.end('busy');
			}
		});
		try {
			const request = withPolicies([policies.retry({ retryDelayInMs: 100, jitter: false }), { phase: 'Retry' }]);
			const response = await request.send({ baseUrl: server.base, url: '/r' });
			expect(response.body.n).toBe(3);
			// The response's headers come through the policies whole.
			expect(response.headers.get('content-type')).toBe('application/json');
			const gaps = server.seen.slice(1).map((s, i) => s.at - server.seen[i].at);
			// delay n = 100 * 2^n: 100 ms then 200 ms (timer granularity aside).
			expect(gaps[0]).toBeGreaterThanOrEqual(95);
			expect(gaps[0]).toBeLessThan(190);
			expect(gaps[1]).toBeGreaterThanOrEqual(195);
			expect(gaps[1]).toBeLessThan(390);
		} finally {
			await server.close();
		}
	});

	test('jittered delays stay within 50-100% of the exponential delay', async () => {
		const server = await recordingServer((req, res, n) => {
			if (n <= 3) {
				res.writeHead(500);
				res.end();
			}
		});
		try {
			const request = withPolicies([policies.retry({ maxRetries: 3, retryDelayInMs: 80 }), { phase: 'Retry' }]);
			await request.send({ baseUrl: server.base, url: '/j' });
			const gaps = server.seen.slice(1).map((s, i) => s.at - server.seen[i].at);
			gaps.forEach((gap, n) => {
				expect(gap).toBeGreaterThanOrEqual(80 * 2 ** n * 0.5 - 5);
				expect(gap).toBeLessThan(80 * 2 ** n + 60);
			});
		} finally {
			await server.close();
		}
	});

	test('Retry-After in seconds and as an HTTP date is honoured', async () => {
		const server = await recordingServer((req, res, n) => {
			if (n === 1) {
				res.writeHead(429, { 'retry-after': '1' });
				res.end();
			} else if (n === 2) {
				res.writeHead(503, { 'retry-after': new Date(Date.now() + 2000).toUTCString() });
				res.end();
			}
		});
		try {
			const request = withPolicies([policies.retry({ retryDelayInMs: 1, jitter: false }), { phase: 'Retry' }]);
			const response = await request.send({ baseUrl: server.base, url: '/ra' });
			expect(response.body.n).toBe(3);
			const [first, second] = server.seen.slice(1).map((s, i) => s.at - server.seen[i].at);
			expect(first).toBeGreaterThanOrEqual(950);
			// An HTTP date has one-second resolution: between 1 and 2 s.
			expect(second).toBeGreaterThanOrEqual(900);
			expect(second).toBeLessThan(2600);
		} finally {
			await server.close();
		}
	});

	test('a wait beyond maxRetryAfterInMs is not waited: the error comes at once with retryAfterMs', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(429, { 'retry-after': '120', 'content-type': 'text/plain' });
			res.end('slow down');
		});
		try {
			const request = withPolicies([policies.retry({ maxRetryAfterInMs: 1000 }), { phase: 'Retry' }]);
			const started = Date.now();
			const error = await request.send({ baseUrl: server.base, url: '/long' }).catch((e) => e);
			expect(Date.now() - started).toBeLessThan(500);
			expect(error).toMatchObject({ name: 'BalenaRequestError', statusCode: 429, body: 'slow down', retryAfterMs: 120000 });
			expect(error.responseHeaders.get('retry-after')).toBe('120');
			expect(server.seen).toHaveLength(1);
		} finally {
			await server.close();
		}
	});

	test('when retries run out the caller gets the last error response, as without the policy', async () => {
		const server = await recordingServer((req, res, n) => {
			res.writeHead(502, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ attempt: n }));
		});
		try {
			const request = withPolicies([policies.retry({ maxRetries: 2, retryDelayInMs: 1 }), { phase: 'Retry' }]);
			const error = await request.send({ baseUrl: server.base, url: '/bad' }).catch((e) => e);
			const plain = await getRequest({}).send({ baseUrl: server.base, url: '/bad' }).catch((e) => e);
			expect(server.seen).toHaveLength(4);
			expect(error.constructor).toBe(plain.constructor);
			expect([error.statusCode, error.body]).toEqual([502, { attempt: 3 }]);
			expect(error.message).toBe(plain.message.replace('4', '3'));
		} finally {
			await server.close();
		}
	});

	test('a POST is not retried, unless it carries an Idempotency-Key', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(503);
			res.end();
		});
		try {
			const request = withPolicies([policies.retry({ maxRetries: 2, retryDelayInMs: 1 }), { phase: 'Retry' }]);
			await expect(request.send({ baseUrl: server.base, url: '/p', method: 'POST', body: { a: 1 } })).rejects.toMatchObject({ statusCode: 503 });
			expect(server.seen).toHaveLength(1);
			await expect(
				request.send({ baseUrl: server.base, url: '/p', method: 'POST', body: { a: 1 }, headers: { 'Idempotency-Key': 'k1' } }),
			).rejects.toMatchObject({ statusCode: 503 });
			expect(server.seen).toHaveLength(4);
			expect(server.seen.slice(1).map((s) => s.body)).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
			const listed = withPolicies([policies.retry({ maxRetries: 1, retryDelayInMs: 1, methods: ['POST'] }), { phase: 'Retry' }]);
			await expect(listed.send({ baseUrl: server.base, url: '/p', method: 'POST', body: 'x' })).rejects.toMatchObject({ statusCode: 503 });
			expect(server.seen).toHaveLength(6);
		} finally {
			await server.close();
		}
	});

	test('a consumed stream body is never sent again', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(503);
			res.end();
		});
		try {
			const request = withPolicies([policies.retry({ maxRetries: 3, retryDelayInMs: 1 }), { phase: 'Retry' }]);
			await expect(
				request.send({ baseUrl: server.base, url: '/s', method: 'PUT', body: Readable.from([Buffer.from('streamed body')]) }),
			).rejects.toMatchObject({ statusCode: 503 });
			expect(server.seen.map((s) => s.body)).toEqual(['streamed body']);
		} finally {
			await server.close();
		}
	});

	test('a network error listed in errorCodes is retried', async () => {
		let connections = 0;
		const server = net.createServer((socket) => {
			connections++;
			if (connections === 1) {
				socket.resetAndDestroy();
				return;
			}
			socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'));
		});
		await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		try {
			const base = `http://127.0.0.1:${server.address().port}`;
			const request = withPolicies([policies.retry({ retryDelayInMs: 1 }), { phase: 'Retry' }]);
			expect((await request.send({ baseUrl: base, url: '/n' })).body).toEqual({ ok: true });
			expect(connections).toBe(2);
		} finally {
			await new Promise((resolve) => server.close(resolve));
		}
	});

	test('an abort during the backoff ends the call at once', async () => {
		const server = await recordingServer((req, res) => {
			res.writeHead(503);
			res.end();
		});
		try {
			const request = withPolicies([policies.retry({ retryDelayInMs: 5000, jitter: false }), { phase: 'Retry' }]);
			const controller = new AbortController();
			const started = Date.now();
			const call = request.send({ baseUrl: server.base, url: '/a', signal: controller.signal });
			await sleep(200);
			controller.abort();
			await expect(call).rejects.toMatchObject({ name: 'AbortError' });
			expect(Date.now() - started).toBeLessThan(1500);
			await sleep(100);
			expect(server.seen).toHaveLength(1);
		} finally {
			await server.close();
		}
	});

	test('requestId keeps one id across retries', async () => {
		const server = await recordingServer((req, res, n) => {
			if (n === 1) {
				res.writeHead(503);
				res.end();
			}
		});
		try {
			const request = withPolicies([policies.requestId()], [policies.retry({ retryDelayInMs: 1 }), { phase: 'Retry' }]);
			await request.send({ baseUrl: server.base, url: '/id' });
			expect(server.seen).toHaveLength(2);
			expect(server.seen[1].headers['x-request-id']).toBe(server.seen[0].headers['x-request-id']);
		} finally {
			await server.close();
		}
	});
});

describe('timeout', () => {
	test('ends the call with ETIMEDOUT; a transient one is retried by an outer retry', async () => {
		let t2 = 0;
		const server = await recordingServer(async (req) => {
			t2 += req.url === '/t2' ? 1 : 0;
			// Slow, except the second attempt at /t2.
			if (req.url !== '/t2' || t2 === 1) {
				await sleep(400);
			}
		});
		try {
			const ending = withPolicies([policies.timeout({ timeout: 100 })]);
			const started = Date.now();
			await expect(ending.send({ baseUrl: server.base, url: '/t' })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
			expect(Date.now() - started).toBeLessThan(350);
			const retried = withPolicies(
				[policies.retry({ retryDelayInMs: 1 }), { phase: 'Retry' }],
				[policies.timeout({ timeout: 100, transient: true }), { phase: 'Sign' }],
			);
			expect((await retried.send({ baseUrl: server.base, url: '/t2' })).body.url).toBe('/t2');
			expect(t2).toBe(2);
			const final = withPolicies(
				[policies.retry({ retryDelayInMs: 1 }), { phase: 'Retry' }],
				[policies.timeout({ timeout: 50 }), { phase: 'Sign' }],
			);
			server.seen.length = 0;
			await expect(final.send({ baseUrl: server.base, url: '/t3' })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
			// Not transient: the retry outside it does not try again.
			expect(server.seen).toHaveLength(1);
		} finally {
			await server.close();
		}
	});
});

describe('log', () => {
	test('one record per request and response, values not allowed REDACTED, credentials never', async () => {
		const server = await recordingServer((req, res) => {
			res.setHeader('x-secret-reply', 'hidden');
			res.setHeader('set-cookie', 'session=abc');
		});
		try {
			const records = [];
			const request = getRequest({});
			request.pipeline.addPolicy(
				policies.log({ logger: (r) => records.push(r), allowedHeaderNames: ['x-shown'], allowedQueryParameters: ['page'] }),
			);
			await request.send({
				baseUrl: server.base,
				url: '/l?page=2&secret=s3&apikey=k9',
				headers: { 'X-Shown': 'visible', 'X-Private': 'p', Cookie: 'c=1', Authorization: 'Bearer tok-123' },
			});
			await sleep(50);
			expect(records.map((r) => r.type)).toEqual(['request', 'response']);
			const [req, res] = records;
			expect(req.method).toBe('GET');
			expect(req.url).toContain('page=2');
			expect(req.url).toContain('secret=REDACTED');
			expect(req.headers['x-shown']).toBe('visible');
			expect(req.headers['x-private']).toBe('REDACTED');
			expect(res.status).toBe(200);
			expect(typeof res.durationMs).toBe('number');
			expect(res.headers['x-secret-reply']).toBe('REDACTED');
			const text = JSON.stringify(records);
			for (const secret of ['tok-123', 'k9', 'abc', 's3', 'c=1']) {
				expect(text).not.toContain(secret);
			}
			// The server did get the credentials.
			expect(server.seen[0].headers.authorization).toBe('Bearer tok-123');
		} finally {
			await server.close();
		}
	});
});

describe('concurrency', () => {
	test('at most `max` requests in flight, the rest in order', async () => {
		const server = await recordingServer(() => sleep(60));
		try {
			const request = withPolicies([policies.concurrency({ max: 2 })]);
			const results = await Promise.all(
				Array.from({ length: 6 }, (_, i) => request.send({ baseUrl: server.base, url: `/c${i}` }).then((r) => r.body.url)),
			);
			expect(results).toEqual(['/c0', '/c1', '/c2', '/c3', '/c4', '/c5']);
			expect(server.maxInFlight()).toBe(2);
			// FIFO: the queued calls start in order, two at a time (which of
			// a pair reaches the server first is the connections' race).
			const pairs = [0, 2, 4].map((i) => server.seen.slice(i, i + 2).map((s) => s.url).sort());
			expect(pairs).toEqual([['/c0', '/c1'], ['/c2', '/c3'], ['/c4', '/c5']]);
			// Without the policy all six run at once.
			const free = getRequest({});
			await Promise.all(Array.from({ length: 6 }, (_, i) => free.send({ baseUrl: server.base, url: `/f${i}` })));
			expect(server.maxInFlight()).toBe(6);
		} finally {
			await server.close();
		}
	});
});

describe('policies written in JS', () => {
	test('a JS policy calling next twice (a retry of its own) sees responses as send() gives them', async () => {
		const server = await recordingServer((req, res, n) => {
			if (n === 1) {
				res.writeHead(500, { 'content-type': 'text/plain' });
				res.end('first fails');
			}
		});
		try {
			const request = getRequest({});
			const seenByPolicy = [];
			request.pipeline.addPolicy({
				name: 'again',
				async sendRequest(options, next) {
					seenByPolicy.push(options.url);
					try {
						return await next(options);
					} catch (err) {
						seenByPolicy.push(`${err.name} ${err.statusCode} ${err.body}`);
						return next({ ...options, headers: { ...options.headers, 'X-Attempt': '2' } });
					}
				},
			});
			const response = await request.send({ baseUrl: server.base, url: '/twice' });
			expect(response.body).toEqual({ n: 2, url: '/twice' });
			expect(seenByPolicy).toEqual(['/twice', 'BalenaRequestError 500 first fails']);
			expect(server.seen.map((s) => s.headers['x-attempt'])).toEqual([undefined, '2']);
		} finally {
			await server.close();
		}
	});

	test('what a JS policy returns or throws is what the caller gets', async () => {
		const server = await recordingServer(() => {});
		try {
			const replacing = getRequest({});
			replacing.pipeline.addPolicy({
				name: 'wrap',
				sendRequest: async (options, next) => ({ ...(await next(options)), body: 'replaced' }),
			});
			expect((await replacing.send({ baseUrl: server.base, url: '/r' })).body).toBe('replaced');
			const throwing = getRequest({});
			const own = new Error('refused by policy');
			throwing.pipeline.addPolicy({ name: 'no', sendRequest: async () => Promise.reject(own) });
			await expect(throwing.send({ baseUrl: server.base, url: '/n' })).rejects.toBe(own);
			expect(server.seen.map((s) => s.url)).toEqual(['/r']);
		} finally {
			await server.close();
		}
	});

	test('inside a native retry, the JS policy runs again on each attempt; its status drives the retry', async () => {
		const server = await recordingServer(() => {});
		try {
			const request = getRequest({});
			let calls = 0;
			request.pipeline.addPolicy(policies.retry({ maxRetries: 2, retryDelayInMs: 1 }), { phase: 'Retry' });
			request.pipeline.addPolicy(
				{
					name: 'flaky-view',
					async sendRequest(options, next) {
						calls++;
						const response = await next(options);
						// The first two look like 503s to the retry outside.
						return calls < 3 ? { ...response, statusCode: 503 } : response;
					},
				},
				{ phase: 'Sign' },
			);
			const response = await request.send({ baseUrl: server.base, url: '/v' });
			expect([calls, response.statusCode, server.seen.length]).toEqual([3, 200, 3]);
		} finally {
			await server.close();
		}
	});

	test('a JS policy before the interceptors wraps the whole call, hooks included', async () => {
		const server = await recordingServer(() => {});
		try {
			const order = [];
			const request = getRequest({
				interceptors: [{ request: (o) => (order.push('hook'), o), response: (r) => (order.push('response hook'), r) }],
			});
			request.pipeline.addPolicy(
				{
					name: 'outermost',
					async sendRequest(options, next) {
						order.push('policy in');
						const response = await next(options);
						order.push('policy out');
						return response;
					},
				},
				{ phase: 'Serialize', beforePolicies: ['interceptors'] },
			);
			expect(request.pipeline.getOrderedPolicies().map((p) => p.name)).toEqual(['outermost', 'interceptors']);
			await request.send({ baseUrl: server.base, url: '/o' });
			expect(order).toEqual(['policy in', 'hook', 'response hook', 'policy out']);
		} finally {
			await server.close();
		}
	});
});
