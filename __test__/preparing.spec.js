'use strict';
// compat.md "Preparing a request (send and stream)".
const net = require('net');
const zlib = require('zlib');
const qs = require('qs');
const getRequest = require('..');
const { startServer, json } = require('./helpers/server');

let server;
const request = getRequest({});
beforeAll(async () => {
	server = await startServer({
		'/json': json(200, { ok: true }),
		'/redirect': (req, res) => {
			res.writeHead(302, { Location: '/json' });
			res.end('moved');
		},
		'/gzip': (req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
			res.end(zlib.gzipSync('hello gzip'));
		},
	});
});
afterAll(() => server.close());

describe('defaults and URL building', () => {
	it('sends GET with json defaults and Accept-Encoding compress, gzip', async () => {
		await request.send({ url: `${server.url}/json` });
		const got = server.last();
		expect(got.method).toBe('GET');
		expect(got.headers['accept-encoding']).toBe('compress, gzip');
		expect(got.body.length).toBe(0);
	});

	it('treats uri as an alias of url', async () => {
		const response = await request.send({ baseUrl: server.url, uri: '/json' });
		expect(response.body).toEqual({ ok: true });
		expect(server.last().url).toBe('/json');
	});

	it('lets an absolute url win over baseUrl', async () => {
		await request.send({ baseUrl: 'http://127.0.0.1:1/nowhere', url: `${server.url}/json?x=1` });
		expect(server.last().url).toBe('/json?x=1');
	});

	it('resolves a relative url against baseUrl like new URL(url, baseUrl)', async () => {
		await request.send({ baseUrl: `${server.url}/v7/`, url: 'device' });
		expect(server.last().url).toBe('/v7/device');
		await request.send({ baseUrl: `${server.url}/v7/`, url: '/device' });
		expect(server.last().url).toBe('/device');
	});

	it.each([
		[undefined, "/v7/device?$filter=name%20eq%20%27a%20b%27&$select=id"],
		['KEY123', "/v7/device?$filter=name%20eq%20%27a%20b%27&$select=id&apikey=KEY123"],
	])('sends the OData query byte-exact (apiKey %s)', async (apiKey, expected) => {
		const response = await request.send({
			baseUrl: server.url,
			url: "/v7/device?$filter=name eq 'a b'&$select=id",
			apiKey,
		});
		expect(server.last().url).toBe(expected);
		expect(response.request.uri.path).toBe(expected);
	});

	it('keeps OData punctuation ( , " as WHATWG URL leaves it and never encodes $', async () => {
		await request.send({
			baseUrl: server.url,
			url: '/v7/application?$expand=owns__device($select=id,device_name)&$filter=app_name eq "x"',
		});
		expect(server.last().url).toBe(
			'/v7/application?$expand=owns__device($select=id,device_name)&$filter=app_name%20eq%20%22x%22',
		);
	});

	it('appends apiKey with ? or & as the URL needs, and not for an empty key', async () => {
		await request.send({ baseUrl: server.url, url: '/foo', apiKey: 'k' });
		expect(server.last().url).toBe('/foo?apikey=k');
		await request.send({ baseUrl: server.url, url: '/foo?$bar=baz', apiKey: 'k' });
		expect(server.last().url).toBe('/foo?$bar=baz&apikey=k');
		await request.send({ baseUrl: server.url, url: '/foo?', apiKey: 'k' });
		expect(server.last().url).toBe('/foo?apikey=k');
		const response = await request.send({ baseUrl: server.url, url: '/foo', apiKey: '' });
		expect(server.last().url).toBe('/foo');
		expect(response.request.uri.query).toBeNull();
	});

	it('serialises qs with the qs package rules and appends it with ? or &', async () => {
		const value = { a: { b: 1, c: [1, 'x y'] }, d: null, e: true, f: "it's", g: [] };
		await request.send({ baseUrl: server.url, url: '/q', qs: value });
		expect(server.last().url).toBe(`/q?${qs.stringify(value)}`);
		await request.send({ baseUrl: server.url, url: '/q?$top=1', qs: { x: 'y' } });
		expect(server.last().url).toBe('/q?$top=1&x=y');
	});

	it('agrees with the qs package on a corpus of values', async () => {
		const corpus = [
			{ a: 1 },
			{ 'a b': 'c&d=e', '$filter': "name eq 'x'" },
			{ nested: { deep: { deeper: ['x', { y: 'z' }] } } },
			{ list: [1, 2, 3], empty: {}, none: null, t: false },
			{ unicode: 'héllo wörld ✓', emoji: '😀' },
			{ date: new Date(0) },
			{ num: 1.5, neg: -3, big: 12345678901234 },
			{ arr: [[1, 2], [3]] },
		];
		for (const value of corpus) {
			await request.send({ baseUrl: server.url, url: '/q', qs: value });
			const expected = qs.stringify(value);
			expect(server.last().url).toBe(expected ? `/q?${expected}` : '/q?');
		}
	});

	it('JSON-encodes a body and sets Content-Type: application/json', async () => {
		await request.send({ method: 'POST', url: `${server.url}/post`, body: { hello: 'world', n: [1] } });
		const got = server.last();
		expect(got.method).toBe('POST');
		expect(got.headers['content-type']).toBe('application/json');
		expect(got.body.toString()).toBe('{"hello":"world","n":[1]}');
	});

	it('sends a string or Buffer body as given with json: false', async () => {
		await request.send({ method: 'PUT', url: `${server.url}/put`, json: false, body: 'raw text', headers: { 'Content-Type': 'text/plain' } });
		expect(server.last().body.toString()).toBe('raw text');
		expect(server.last().headers['content-type']).toBe('text/plain');
		const bytes = Buffer.from([0, 1, 2, 255]);
		await request.send({ method: 'PATCH', url: `${server.url}/patch`, json: false, body: bytes });
		expect(server.last().method).toBe('PATCH');
		expect(server.last().body.equals(bytes)).toBe(true);
	});

	it('sends a body with a named Blob as multipart/form-data', async () => {
		const file = new File([Buffer.from('file-bytes\x00\x01')], 'image.img', { type: 'application/x-raw' });
		await request.send({ method: 'POST', url: `${server.url}/upload`, body: { name: 'dev', count: 3, file } });
		const got = server.last();
		const match = /^multipart\/form-data; boundary=(.+)$/.exec(got.headers['content-type']);
		expect(match).not.toBeNull();
		const text = got.body.toString('latin1');
		expect(text).toContain('Content-Disposition: form-data; name="name"\r\n\r\ndev\r\n');
		expect(text).toContain('Content-Disposition: form-data; name="count"\r\n\r\n3\r\n');
		expect(text).toContain('Content-Disposition: form-data; name="file"; filename="image.img"');
		expect(text).toContain('Content-Type: application/x-raw\r\n\r\nfile-bytes\x00\x01\r\n');
		expect(text.endsWith(`--${match[1]}--\r\n`)).toBe(true);
		expect(Number(got.headers['content-length'])).toBe(got.body.length);
	});

	it('refuses strictSSL: false', async () => {
		await expect(request.send({ url: `${server.url}/x`, strictSSL: false })).rejects.toThrow(
			'`strictSSL` must be true or absent',
		);
	});

	it.each([
		['form', { a: 1 }, '[object Object]'],
		['jar', true, 'true'],
		['agent', 'x', 'x'],
		['proxy', 'http://p', 'http://p'],
		['oauth', 1, '1'],
		['auth', 'user:pass', 'user:pass'],
		['formData', 'f', 'f'],
		['multipart', 'm', 'm'],
	])('rejects the unsupported option %s', async (key, value, shown) => {
		const before = server.requests.length;
		await expect(request.send({ url: `${server.url}/x`, [key]: value })).rejects.toThrow(
			`The ${key} param is not supported. Value: ${shown}`,
		);
		expect(server.requests.length).toBe(before);
	});

	it('follows redirects by default and returns the 3xx with followRedirect: false', async () => {
		const followed = await request.send({ url: `${server.url}/redirect` });
		expect(followed.statusCode).toBe(200);
		expect(followed.body).toEqual({ ok: true });
		const raw = await request.send({ url: `${server.url}/redirect`, followRedirect: false });
		expect(raw.statusCode).toBe(302);
		expect(raw.headers.get('location')).toBe('/json');
		expect(raw.body).toBe('moved');
	});

	it('decodes gzip transparently, and not with gzip: false', async () => {
		const decoded = await request.send({ url: `${server.url}/gzip` });
		expect(decoded.body).toBe('hello gzip');
		const raw = await request.send({ url: `${server.url}/gzip`, gzip: false, responseFormat: 'blob' });
		const bytes = Buffer.from(await raw.body.arrayBuffer());
		expect(zlib.gunzipSync(bytes).toString()).toBe('hello gzip');
	});
});

describe('timeout, abort and retries', () => {
	let hanging;
	let hangingSockets;
	beforeAll(async () => {
		hangingSockets = new Set();
		hanging = net.createServer((socket) => {
			hangingSockets.add(socket);
			socket.resume(); // read, so that the client's close is seen
			socket.on('error', () => {});
			socket.on('close', () => hangingSockets.delete(socket));
		});
		await new Promise((resolve) => hanging.listen(0, '127.0.0.1', resolve));
	});
	afterAll(() => {
		for (const socket of hangingSockets) socket.destroy();
		return new Promise((resolve) => hanging.close(resolve));
	});
	const hangingUrl = () => `http://127.0.0.1:${hanging.address().port}/wait`;

	it('fails with network timeout after 59 s by default, driven by fake timers', async () => {
		const sinon = require('sinon');
		const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			const options = { url: hangingUrl() };
			let settled = false;
			const promise = request.send(options).finally(() => {
				settled = true;
			});
			promise.catch(() => {});
			await new Promise((resolve) => setImmediate(resolve));
			expect(options.timeout).toBe(59000);
			clock.tick(58000);
			await new Promise((resolve) => setImmediate(resolve));
			expect(settled).toBe(false);
			clock.tick(1000);
			const err = await promise.catch((e) => e);
			expect(err).toBeInstanceOf(Error);
			expect(err.message).toBe('network timeout');
			expect(err.requestOptions.url).toBe(hangingUrl());
		} finally {
			clock.restore();
		}
	});

	it('uses the timeout option and cancels the native request (the server sees the close)', async () => {
		const started = Date.now();
		const pending = request.send({ url: hangingUrl(), timeout: 150 });
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(hangingSockets.size).toBeGreaterThan(0);
		await expect(pending).rejects.toThrow('network timeout');
		expect(Date.now() - started).toBeLessThan(5000);
		for (let i = 0; i < 40 && hangingSockets.size > 0; i++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(hangingSockets.size).toBe(0);
	});

	it('aborts with an AbortSignal, before and during the request', async () => {
		const controller = new AbortController();
		const pending = request.send({ url: hangingUrl(), signal: controller.signal });
		setTimeout(() => controller.abort(), 50);
		const err = await pending.catch((e) => e);
		expect(err.name).toBe('AbortError');
		const already = AbortSignal.abort();
		const err2 = await request.send({ url: `${server.url}/json`, signal: already }).catch((e) => e);
		expect(err2.name).toBe('AbortError');
	});

	it('re-sends after network failures up to retries, and never after an error status', async () => {
		let connections = 0;
		// Connection: close, so that every attempt needs a new connection.
		const flaky = await startServer({ '*': json(500, { message: 'boom' }, { Connection: 'close' }) });
		flaky.server.on('connection', (socket) => {
			connections++;
			if (connections <= 1) socket.destroy();
		});
		const err = await request.send({ url: `${flaky.url}/x`, retries: 3 }).catch((e) => e);
		expect(err.statusCode).toBe(500);
		expect(connections).toBe(2);
		expect(flaky.requests.length).toBe(1);
		connections = -10;
		const err2 = await request.send({ url: `${flaky.url}/x`, retries: 2 }).catch((e) => e);
		expect(err2.statusCode).toBeUndefined();
		expect(err2.message).toMatch(/failed/);
		expect(connections).toBe(-7);
		await flaky.close();
	});
});
