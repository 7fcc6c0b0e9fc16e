'use strict';
// Bad input gets a clear rejected promise: never a crash, a hang, or an
// unhandled rejection.
const getRequest = require('..');
const { startServer } = require('./helpers/server');

let server;
const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);
beforeAll(async () => {
	server = await startServer();
	process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
	process.off('unhandledRejection', onUnhandled);
	await server.close();
});
afterEach(() => {
	expect(unhandled).toEqual([]);
});

const request = getRequest({});

describe('bad options', () => {
	it('missing url', async () => {
		await expect(request.send({})).rejects.toThrow('url option not provided');
		await expect(request.send()).rejects.toThrow('url option not provided');
		await expect(request.stream({ baseUrl: server.url })).rejects.toThrow('url option not provided');
	});

	it('an unparsable URL is named in the message', async () => {
		const err = await request.send({ url: 'http://exa mple.com:99999/x' }).catch((e) => e);
		expect(err).toBeInstanceOf(TypeError);
		expect(err.message).toContain('http://exa mple.com:99999/x');
		const relative = await request.send({ url: '/no/base' }).catch((e) => e);
		expect(relative.message).toBe('Invalid URL: /no/base');
		const withKey = await request.send({ url: '/no/base', apiKey: 'k' }).catch((e) => e);
		expect(withKey.message).toBe('Invalid URL: /no/base');
	});

	it('a header value with CR/LF is refused before anything is sent', async () => {
		const before = server.requests.length;
		const err = await request.send({ url: `${server.url}/x`, headers: { 'X-Evil': 'a\r\nInjected: yes' } }).catch((e) => e);
		// The platform's own Headers error, as upstream's (from Node's realm, not jest's).
		expect(err.name).toBe('TypeError');
		expect(err.message).toContain('is an invalid header value');
		const badName = await request.send({ url: `${server.url}/x`, headers: { 'Bad Name': 'v' } }).catch((e) => e);
		expect(badName.message).toContain('Bad Name');
		expect(server.requests.length).toBe(before);
	});

	it('a non-string method', async () => {
		const err = await request.send({ url: `${server.url}/x`, method: 42 }).catch((e) => e);
		expect(err).toBeInstanceOf(TypeError);
		expect(err.message).toContain('method');
		const invalid = await request.send({ url: `${server.url}/x`, method: 'GE T' }).catch((e) => e);
		expect(invalid.message).toContain('GE T');
	});

	it('a body that cannot be JSON-encoded', async () => {
		const body = { a: 1 };
		body.self = body;
		const err = await request.send({ url: `${server.url}/x`, method: 'POST', body }).catch((e) => e);
		expect(err).toBeInstanceOf(TypeError);
		expect(err.message).toMatch(/circular/i);
		const big = await request.send({ url: `${server.url}/x`, method: 'POST', body: { n: 10n } }).catch((e) => e);
		expect(big).toBeInstanceOf(TypeError);
	});

	it('odd but valid types are coerced like balena-request does', async () => {
		const response = await request.send({ url: `${server.url}/x`, retries: '2', qs: { n: 1 }, responseFormat: undefined, headers: { 'X-Num': 5 } });
		expect(response.statusCode).toBe(200);
		expect(server.last().headers['x-num']).toBe('5');
	});
});

describe('misbehaving interceptors', () => {
	it('a hook that throws synchronously', async () => {
		const r = getRequest({ interceptors: [{ request: () => { throw new Error('sync throw'); } }] });
		await expect(r.send({ url: `${server.url}/x` })).rejects.toThrow('sync throw');
		const r2 = getRequest({ interceptors: [{ response: () => { throw new Error('sync response throw'); } }] });
		await expect(r2.send({ url: `${server.url}/x` })).rejects.toThrow('sync response throw');
	});

	it('a hook that rejects with a non-Error', async () => {
		const r = getRequest({ interceptors: [{ request: () => Promise.reject('just a string') }] });
		await expect(r.send({ url: `${server.url}/x` })).rejects.toBe('just a string');
	});

	it('a request hook that returns undefined', async () => {
		const r = getRequest({ interceptors: [{ request: () => undefined }] });
		const err = await r.send({ url: `${server.url}/x` }).catch((e) => e);
		expect(err).toBeInstanceOf(TypeError);
		expect(err.message).toMatch(/request interceptor/);
	});

	it('a request hook that never settles fails at the timeout', async () => {
		const r = getRequest({ interceptors: [{ request: () => new Promise(() => {}) }] });
		await expect(r.send({ url: `${server.url}/x`, timeout: 100 })).rejects.toThrow('network timeout');
	});

	it('a hook that calls send() re-entrantly', async () => {
		const r = getRequest({});
		r.interceptors.push({
			request: async (o) => {
				if (!o.inner) {
					const inner = await r.send({ url: `${server.url}/inner`, inner: true });
					o.headers['X-Inner'] = String(inner.statusCode);
				}
				return o;
			},
		});
		await r.send({ url: `${server.url}/outer` });
		expect(server.last().path).toBe('/outer');
		expect(server.last().headers['x-inner']).toBe('200');
	});
});

describe('health afterwards', () => {
	it('still serves normal requests', async () => {
		const response = await request.send({ url: `${server.url}/after` });
		expect(response.body).toBe('ok');
	});
});

describe('wrong option types', () => {
	it.each([
		['url', 42],
		['baseUrl', {}],
		['method', 1],
		['apiKey', 123],
		['responseFormat', 5],
		['headers', 'x'],
		['qs', 'a=1'],
		['timeout', 'soon'],
		['retries', {}],
		['signal', 'abort'],
		['json', {}],
	])('%s as %p rejects with a TypeError naming it', async (name, value) => {
		const before = server.requests.length;
		for (const call of [request.send, request.stream]) {
			const err = await call({ url: `${server.url}/x`, [name]: value }).catch((e) => e);
			expect(err).toBeInstanceOf(TypeError);
			expect(err.message).toContain(`The ${name} option`);
		}
		expect(server.requests.length).toBe(before);
	});

	it('options that are not an object', async () => {
		await expect(request.send('http://x')).rejects.toThrow(TypeError);
		await expect(request.stream(5)).rejects.toThrow(TypeError);
	});

	it('factory options of the wrong type throw a TypeError naming them', () => {
		expect(() => getRequest({ auth: 'token' })).toThrow(/The auth option/);
		expect(() => getRequest({ interceptors: {} })).toThrow(/The interceptors option/);
		expect(() => getRequest({ retries: '2' })).toThrow(/The retries option/);
	});
});

describe('wrong types at the other entry points', () => {
	it('refreshToken() rejects wrong option types with a TypeError naming them', async () => {
		const r = getRequest({});
		await expect(r.refreshToken(null)).rejects.toThrow(/The refreshToken options must be an object/);
		await expect(r.refreshToken({ baseUrl: 5 })).rejects.toThrow(/The baseUrl option must be a string/);
	});

	it('the internal native binding throws plain errors for wrong types, never crashes', async () => {
		const { Engine } = require('../lib/binding');
		expect(() => new Engine(5)).toThrow();
		expect(() => new Engine(null)).toThrow();
		expect(() => new Engine(() => {})).toThrow();
		let settled;
		const batch = new Promise((resolve) => {
			settled = resolve;
		});
		const engine = new Engine(() => {}, (b) => settled(b));
		expect(() => engine.startBatch('x')).toThrow();
		expect(() => engine.startBatch([1, 5], 'x')).toThrow();
		// A call whose init cannot be read settles with a failure naming it.
		engine.hold(true);
		engine.startBatch([7, [1]]);
		const [id, result] = await batch;
		engine.hold(false);
		expect(id).toBe(7);
		expect(result[0]).toBe(1);
		expect(result[2]).toMatchObject({ kind: 'invalidRequest', message: expect.stringMatching(/CallInitJs: expected 11 elements, got 1/) });
		expect(() => engine.cancel('a')).toThrow();
		expect(() => engine.reply(1, 5)).toThrow();
		expect(() => engine.reply(1, null)).toThrow();
	});
});
