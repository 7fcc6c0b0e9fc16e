'use strict';
// compat.md "Responses (send)".
const errors = require('balena-errors');
const getRequest = require('..');
const { startServer, json, text } = require('./helpers/server');
const { makeAuth, makeJwt } = require('./helpers/auth');

let server;
const request = getRequest({});
beforeAll(async () => {
	server = await startServer({
		'/json': json(200, { hello: 'world' }, { 'X-Extra': 'yes' }),
		'/text': text(200, 'plain text'),
		'/binary': (req, res) => {
			res.writeHead(200, { 'Content-Type': 'binary/octet-stream' });
			res.end(Buffer.from([1, 2, 3]));
		},
		'/error-text': json(400, { error: { text: 'from error.text' }, message: 'not this' }),
		'/message': json(404, { message: 'from message' }),
		'/error-string': json(409, { error: 'from error' }),
		'/body-string': text(500, 'the whole body'),
		'/empty': (req, res) => {
			res.writeHead(500);
			res.end();
		},
		'/object': json(422, { code: 7 }),
		'/retry': (req, res) => {
			res.writeHead(429, { 'Retry-After': '120', 'Content-Type': 'text/plain' });
			res.end('slow down');
		},
		'/bad-json': (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{not json');
		},
	});
});
afterAll(() => server.close());

describe('the response object', () => {
	it('has statusCode, fetch Headers, body, duration and request', async () => {
		const auth = makeAuth();
		const token = makeJwt();
		await auth.setKey(token);
		const response = await getRequest({ auth }).send({ baseUrl: server.url, url: '/json?a=1#frag' });
		expect(response.statusCode).toBe(200);
		expect(response.headers).toBeInstanceOf(Headers);
		expect(response.headers.get('x-extra')).toBe('yes');
		expect(response.headers.has('Content-Type')).toBe(true);
		const names = [];
		response.headers.forEach((value, name) => names.push(name));
		expect(names).toContain('x-extra');
		expect([...response.headers].some(([name]) => name === 'content-type')).toBe(true);
		expect(response.body).toEqual({ hello: 'world' });
		expect(typeof response.duration).toBe('number');
		expect(response.request.headers.Authorization).toBe(`Bearer ${token}`);
		expect(response.request.headers['Accept-Encoding']).toBe('compress, gzip');
		const port = new URL(server.url).port;
		expect(response.request.uri).toEqual({
			href: `${server.url}/json?a=1#frag`,
			protocol: 'http:',
			slashes: true,
			auth: null,
			host: `127.0.0.1:${port}`,
			hostname: '127.0.0.1',
			port,
			pathname: '/json',
			path: '/json?a=1',
			search: '?a=1',
			query: 'a=1',
			hash: '#frag',
		});
		expect(server.last().url).toBe('/json?a=1');
	});
});

describe('body by responseFormat', () => {
	it.each([
		['/json', undefined, { hello: 'world' }],
		['/text', undefined, 'plain text'],
		['/json', 'text', '{"hello":"world"}'],
		['/text', 'none', null],
		['/json', 'none', null],
	])('%s with responseFormat %s', async (url, responseFormat, expected) => {
		const response = await request.send({ baseUrl: server.url, url, responseFormat });
		expect(response.body).toEqual(expected);
	});

	it('gives a Blob for binary/octet-stream or blob', async () => {
		const sniffed = await request.send({ baseUrl: server.url, url: '/binary' });
		expect(sniffed.body).toBeInstanceOf(Blob);
		expect([...Buffer.from(await sniffed.body.arrayBuffer())]).toEqual([1, 2, 3]);
		const asked = await request.send({ baseUrl: server.url, url: '/text', responseFormat: 'blob' });
		expect(asked.body).toBeInstanceOf(Blob);
		expect(await asked.body.text()).toBe('plain text');
	});

	it('parses JSON when asked, whatever the content type', async () => {
		server.routes['/json-as-text'] = text(200, '{"a":1}');
		const response = await request.send({ baseUrl: server.url, url: '/json-as-text', responseFormat: 'json' });
		expect(response.body).toEqual({ a: 1 });
	});

	it('fails with BalenaInvalidParameterError for another format, through responseError', async () => {
		const seen = [];
		const hooked = getRequest({ interceptors: [{ responseError: (e) => { seen.push(e); throw e; } }] });
		const err = await hooked.send({ baseUrl: server.url, url: '/json', responseFormat: 'xml' }).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaInvalidParameterError);
		expect(err.message).toContain("xml is not a valid value for parameter 'responseFormat'");
		expect(seen).toEqual([err]);
	});

	it('rejects invalid JSON with a SyntaxError', async () => {
		await expect(request.send({ baseUrl: server.url, url: '/bad-json' })).rejects.toThrow(SyntaxError);
	});
});

describe('error statuses', () => {
	it.each([
		['/error-text', 400, 'from error.text'],
		['/message', 404, 'from message'],
		['/error-string', 409, 'from error'],
		['/body-string', 500, 'the whole body'],
		['/empty', 500, 'The request was unsuccessful'],
	])('%s fails with BalenaRequestError and the right text', async (url, status, textValue) => {
		const options = { baseUrl: server.url, url };
		const err = await request.send(options).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaRequestError);
		expect(err.code).toBe('BalenaRequestError');
		expect(err.statusCode).toBe(status);
		expect(err.message).toBe(`Request error: ${textValue}`);
		expect(err.body).toBe(textValue);
		expect(err.requestOptions).toBe(options);
		expect(err.responseHeaders).toBeInstanceOf(Headers);
	});

	it('uses the decoded body itself when it has no message', async () => {
		const err = await request.send({ baseUrl: server.url, url: '/object' }).catch((e) => e);
		expect(err.body).toEqual({ code: 7 });
		expect(err.message).toBe('Request error: [object Object]');
	});

	it('exposes response headers such as Retry-After', async () => {
		const err = await request.send({ baseUrl: server.url, url: '/retry' }).catch((e) => e);
		expect(err.statusCode).toBe(429);
		expect(err.responseHeaders.get('Retry-After')).toBe('120');
		expect(err.body).toBe('slow down');
	});
});

describe('debug', () => {
	it('prints statusCode, duration and the options on an error response, with secrets redacted', async () => {
		const printed = [];
		const original = console.error;
		console.error = (value) => printed.push(value);
		try {
			const debugRequest = getRequest({ debug: true });
			await debugRequest
				.send({ baseUrl: server.url, url: '/message', apiKey: 'SECRETKEY', headers: { Authorization: 'Bearer SECRET' } })
				.catch(() => {});
			await getRequest({}).send({ baseUrl: server.url, url: '/message' }).catch(() => {});
		} finally {
			console.error = original;
		}
		expect(printed.length).toBe(1);
		expect(printed[0].statusCode).toBe(404);
		expect(typeof printed[0].duration).toBe('number');
		expect(printed[0].url).toBe('/message');
		expect(JSON.stringify(printed[0])).not.toContain('SECRET');
	});
});
