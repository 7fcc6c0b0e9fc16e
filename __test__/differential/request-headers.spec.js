'use strict';
// What the server receives from upstream balena-request 14.2.3 and from this
// package for the same call: method, path and query bytes, every header line
// (name and value) and the body bytes. Allowed differences are named from
// the one list in allowed-differences.js.
const { startServer } = require('../helpers/server');
const { makeAuth, makeJwt } = require('../helpers/auth');
const { bothClients } = require('../helpers/upstream');
const allowed = require('./allowed-differences');

let server;
let auth;
beforeAll(async () => {
	server = await startServer({
		'/redirect': (req, res) => {
			res.writeHead(302, { Location: '/landed' });
			res.end();
		},
		'/redirect307': (req, res) => {
			res.writeHead(307, { Location: '/landed' });
			res.end();
		},
	});
	auth = makeAuth();
	await auth.setKey(makeJwt());
});
afterAll(() => server.close());

const MULTIPART = /^multipart\/form-data; boundary=(.+)$/;

/**
 * A request as the server got it, with what the allowed differences cover
 * taken out: header names lowercased and sorted (headerNameCase), the
 * multipart boundary replaced by a placeholder and the epilogue trimmed
 * (multipartBoundary).
 */
function normalise(record) {
	const lines = [];
	for (let i = 0; i < record.rawHeaders.length; i += 2) {
		lines.push([record.rawHeaders[i].toLowerCase(), record.rawHeaders[i + 1]]);
	}
	let body = record.body.toString('latin1');
	const contentType = lines.find(([name]) => name === 'content-type');
	const boundary = contentType && MULTIPART.exec(contentType[1]);
	if (boundary) {
		body = body.split(boundary[1]).join('BOUNDARY').replace(/--BOUNDARY--\r\n(\r\n)?$/, '--BOUNDARY--\r\n');
		contentType[1] = 'multipart/form-data; boundary=BOUNDARY';
		const length = lines.find(([name]) => name === 'content-length');
		length[1] = String(Buffer.byteLength(body, 'latin1'));
	}
	lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return { method: record.method, url: record.url, headers: lines, body };
}

/** Runs `call(request)` through both clients; what the server got from each. */
async function received(call, factoryOptions = { auth }) {
	const seen = {};
	for (const [name, request] of bothClients(factoryOptions)) {
		const before = server.requests.length;
		await call(request);
		seen[name] = server.requests.slice(before).map(normalise);
	}
	return seen;
}

const drain = async (stream) => {
	for await (const chunk of stream) void chunk;
};

describe('the server receives the same request from both', () => {
	it.each([
		['a GET', (r, baseUrl) => r.send({ baseUrl, url: '/get?x=1', qs: { filter: "name eq 'a b'" } })],
		['a JSON POST', (r, baseUrl) => r.send({ baseUrl, url: '/post', method: 'POST', body: { a: [1, 'é'] } })],
		['a PUT of a string', (r, baseUrl) => r.send({ baseUrl, url: '/put', method: 'PUT', body: 'plain text', json: false })],
		['a POST of URLSearchParams', (r, baseUrl) => r.send({ baseUrl, url: '/params', method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }), json: false })],
		['a PUT of a string with its own Content-Type', (r, baseUrl) => r.send({ baseUrl, url: '/put', method: 'PUT', body: 'a,b', json: false, headers: { 'content-type': 'text/csv' } })],
		['a POST of a Buffer', (r, baseUrl) => r.send({ baseUrl, url: '/buf', method: 'POST', body: Buffer.from([1, 2, 255]), json: false })],
		['a PATCH (method kept as written)', (r, baseUrl) => r.send({ baseUrl, url: '/patch', method: 'PATCH', body: { a: 1 } })],
		['a DELETE with an api key', (r, baseUrl) => r.send({ baseUrl, url: '/del', method: 'DELETE', apiKey: 'k3y' })],
		[
			'a multipart upload',
			(r, baseUrl) =>
				r.send({
					baseUrl,
					url: '/form',
					method: 'POST',
					body: {
						name: 'x',
						n: 5,
						file: new File(['hello'], 'f.txt', { type: 'text/plain' }),
						bin: new File([Buffer.from([0, 1, 2])], 'g.bin'),
					},
				}),
		],
		[
			"the caller's lowercase authorization next to a saved token",
			(r, baseUrl) => r.send({ baseUrl, url: '/auth', headers: { authorization: 'Bearer mine' } }),
		],
		[
			"the caller's own Accept, User-Agent, Accept-Language, Connection and sec-fetch-mode",
			(r, baseUrl) =>
				r.send({
					baseUrl,
					url: '/custom',
					headers: {
						Accept: 'text/plain',
						'User-Agent': 'me/1.0',
						'Accept-Language': 'fr',
						Connection: 'close',
						'sec-fetch-mode': 'navigate',
						'X-Extra': 'a',
						'x-extra': 'b',
					},
				}),
		],
		['a redirect (both hops)', (r, baseUrl) => r.send({ baseUrl, url: '/redirect' })],
		['a JSON POST redirected by a 302 (a GET follows)', (r, baseUrl) => r.send({ baseUrl, url: '/redirect', method: 'POST', body: { a: 1 } })],
		['a JSON PUT redirected by a 307 (the body follows)', (r, baseUrl) => r.send({ baseUrl, url: '/redirect307', method: 'PUT', body: { a: 1 } })],
		['sendToken: false', (r, baseUrl) => r.send({ baseUrl, url: '/anon', sendToken: false })],
		['a stream', async (r, baseUrl) => drain(await r.stream({ baseUrl, url: '/stream' }))],
		['a stream POSTing a string', async (r, baseUrl) => drain(await r.stream({ baseUrl, url: '/stream-post', method: 'POST', body: 'text', json: false }))],
		[
			'a stream with its own headers and a lowercase authorization',
			async (r, baseUrl) =>
				drain(
					await r.stream({
						baseUrl,
						url: '/stream2',
						headers: { authorization: 'Bearer mine', accept: 'x/y', 'user-agent': 'me' },
					}),
				),
		],
	])('%s', async (name, call) => {
		const seen = await received((request) => call(request, server.url));
		expect(seen.native.length).toBeGreaterThan(0);
		expect(seen.native).toEqual(seen.upstream);
	});

	it('a request hook that changes the headers', async () => {
		const interceptors = [
			{
				request: (options) => ({ ...options, headers: { ...options.headers, 'X-Hooked': 'yes', accept: 'application/json' } }),
			},
		];
		const seen = await received((request) => request.send({ baseUrl: server.url, url: '/hooked' }), { auth, interceptors });
		expect(seen.native).toEqual(seen.upstream);
	});

	it('without auth', async () => {
		const seen = await received((request) => request.send({ baseUrl: server.url, url: '/noauth' }), {});
		expect(seen.native).toEqual(seen.upstream);
	});
});

describe('the normalisation hides only what the list allows', () => {
	it('names the differences it relies on', () => {
		expect(allowed.headerNameCase).toBeDefined();
		expect(allowed.multipartBoundary).toBeDefined();
	});

	it('still sees a different header value', () => {
		const record = (value) => ({
			method: 'GET',
			url: '/',
			rawHeaders: ['User-Agent', value],
			body: Buffer.alloc(0),
		});
		expect(normalise(record('node'))).not.toEqual(normalise(record('node-fetch')));
	});
});
