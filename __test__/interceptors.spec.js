'use strict';
// compat.md "Interceptors".
const errors = require('balena-errors');
const getRequest = require('..');
const { startServer, json, text } = require('./helpers/server');
const { makeAuth, makeJwt } = require('./helpers/auth');

let server;
beforeAll(async () => {
	server = await startServer({
		'/ok': json(200, { ok: true }),
		'/fail': json(500, { message: 'server says no' }),
		'/other': text(200, 'other'),
	});
});
afterAll(() => server.close());

const closedPortUrl = async () => {
	const tmp = await startServer();
	const url = tmp.url;
	await tmp.close();
	return `${url}/gone`;
};

describe('request phase', () => {
	it('runs request hooks in array order, each on what the previous returned', async () => {
		const order = [];
		const request = getRequest({
			interceptors: [
				{ request: (o) => { order.push(1); o.headers['X-One'] = '1'; return o; } },
				{ response: (r) => r },
				{ request: async (o) => { order.push(2); return { ...o, headers: { ...o.headers, 'X-Two': o.headers['X-One'] + '2' } }; } },
			],
		});
		await request.send({ url: `${server.url}/ok` });
		expect(order).toEqual([1, 2]);
		expect(server.last().headers['x-two']).toBe('12');
	});

	it('hooks see options after the token and apiKey were added, without baseUrl for absolute URLs', async () => {
		const auth = makeAuth();
		const token = makeJwt();
		await auth.setKey(token);
		let seen;
		const request = getRequest({ auth, interceptors: [{ request: (o) => { seen = { ...o, headers: { ...o.headers } }; o.headers['X-Balena-Client'] = 'sdk'; return o; } }] });
		await request.send({ baseUrl: 'http://unused.invalid', url: `${server.url}/ok?$top=1`, apiKey: 'K', custom: 'kept' });
		expect(seen.url).toBe(`${server.url}/ok?$top=1&apikey=K`);
		expect('baseUrl' in seen).toBe(false);
		expect(seen.headers.Authorization).toBe(`Bearer ${token}`);
		expect(seen.custom).toBe('kept');
		expect(seen.method).toBe('GET');
		expect(seen.json).toBe(true);
		expect(server.last().url).toBe('/ok?$top=1&apikey=K');
		expect(server.last().headers['x-balena-client']).toBe('sdk');
	});

	it('requestError sees the failure of a previous hook and may recover with options', async () => {
		const seen = [];
		const request = getRequest({
			interceptors: [
				{ request: () => { throw new Error('first hook failed'); } },
				{ request: () => { seen.push('skipped'); } },
				{ requestError: (err) => { seen.push(err.message); return { url: `${server.url}/other` }; } },
			],
		});
		const response = await request.send({ url: `${server.url}/ok` });
		expect(seen).toEqual(['first hook failed']);
		expect(response.body).toBe('other');
		expect(server.last().path).toBe('/other');
	});

	it('an unrecovered request hook failure rejects without sending and reaches responseError', async () => {
		const before = server.requests.length;
		const seen = [];
		const request = getRequest({
			interceptors: [
				{ request: () => Promise.reject(new Error('nope')), responseError: (err) => { seen.push(err.message); throw err; } },
			],
		});
		await expect(request.send({ url: `${server.url}/ok` })).rejects.toThrow('nope');
		expect(seen).toEqual(['nope']);
		expect(server.requests.length).toBe(before);
	});
});

describe('response phase', () => {
	it('runs response hooks in reverse array order', async () => {
		const order = [];
		const request = getRequest({
			interceptors: [
				{ response: (r) => { order.push('a'); return r; } },
				{ response: async (r) => { order.push('b'); return r; } },
				{ response: (r) => { order.push('c'); return r; } },
			],
		});
		await request.send({ url: `${server.url}/ok` });
		expect(order).toEqual(['c', 'b', 'a']);
	});

	it('a response hook may return any value, sync or async', async () => {
		const request = getRequest({
			interceptors: [{ response: (r) => r.body }, { response: async (r) => ({ ...r, body: { replaced: true } }) }],
		});
		expect(await request.send({ url: `${server.url}/ok` })).toEqual({ replaced: true });
	});

	it('responseError sees HTTP errors and may recover with a fresh send()', async () => {
		const request = getRequest({});
		const seen = [];
		request.interceptors.push({
			responseError: (err) => {
				seen.push(err);
				return request.send({ url: `${server.url}/other` });
			},
		});
		const response = await request.send({ url: `${server.url}/fail` });
		expect(response.body).toBe('other');
		expect(seen[0]).toBeInstanceOf(errors.BalenaRequestError);
		expect(seen[0].statusCode).toBe(500);
	});

	it('responseError sees network errors, with the prepared options', async () => {
		const seen = [];
		const request = getRequest({ interceptors: [{ responseError: (err) => { seen.push(err); return 'recovered'; } }] });
		const url = await closedPortUrl();
		expect(await request.send({ url, custom: 1 })).toBe('recovered');
		expect(seen[0]).toBeInstanceOf(Error);
		// Node's fetch: TypeError('fetch failed') with the system error as cause.
		expect(seen[0].cause.code).toBe('ECONNREFUSED');
		expect(seen[0].requestOptions.url).toBe(url);
		expect(seen[0].requestOptions.custom).toBe(1);
		expect(seen[0].requestOptions.headers['Accept-Encoding']).toBe('compress, gzip');
	});

	it('responseError sees failures of later (earlier-running) response hooks', async () => {
		const seen = [];
		const request = getRequest({
			interceptors: [
				{ responseError: (err) => { seen.push(err.message); return 'fixed'; } },
				{ response: () => { throw new Error('hook broke'); } },
			],
		});
		expect(await request.send({ url: `${server.url}/ok` })).toBe('fixed');
		expect(seen).toEqual(['hook broke']);
	});

	it('the 429 retry interceptor pattern of the SDK works', async () => {
		let calls = 0;
		server.routes['/busy'] = (req, res) => {
			calls++;
			if (calls < 3) {
				res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'text/plain' });
				res.end('Too Many Requests');
			} else {
				json(200, { done: true })(req, res);
			}
		};
		const request = getRequest({});
		request.interceptors = [
			{
				async responseError(err) {
					if (err.statusCode === 429 && err.responseHeaders.get('Retry-After') === '0') {
						return request.send(err.requestOptions);
					}
					throw err;
				},
			},
		];
		const response = await request.send({ baseUrl: server.url, url: '/busy', apiKey: 'K' });
		expect(response.body).toEqual({ done: true });
		expect(calls).toBe(3);
		// Re-sending the caller's own options does not append the apikey twice.
		expect(server.requests.filter((r) => r.path === '/busy').map((r) => r.url)).toEqual(['/busy?apikey=K', '/busy?apikey=K', '/busy?apikey=K']);
	});
});

describe('error options', () => {
	it('an HTTP error carries the caller\'s own options object', async () => {
		const options = { baseUrl: server.url, url: '/fail', apiKey: 'K', extra: 'x' };
		const err = await getRequest({}).send(options).catch((e) => e);
		expect(err.requestOptions).toBe(options);
	});

	it('errors from stream() carry no requestOptions', async () => {
		const request = getRequest({});
		const httpErr = await request.stream({ url: `${server.url}/fail` }).catch((e) => e);
		expect(httpErr).toBeInstanceOf(errors.BalenaRequestError);
		expect(httpErr.requestOptions).toBeUndefined();
		const netErr = await request.stream({ url: await closedPortUrl() }).catch((e) => e);
		expect(netErr.requestOptions).toBeUndefined();
	});
});
