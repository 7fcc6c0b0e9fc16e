'use strict';
// Header bytes outside ASCII, and header values upstream's `Headers` refuses,
// side by side with upstream balena-request.
const { startRawServer, reply } = require('./helpers/raw-server');
const { startServer } = require('./helpers/server');
const { bothClients, describeError } = require('./helpers/upstream');

const latin1Reply = (status) => (socket) => {
	// "café" with é as the single byte 0xE9, as an old server writes it.
	socket.end(
		Buffer.concat([
			Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nContent-Disposition: attachment; filename="caf`),
			Buffer.from([0xe9]),
			Buffer.from('.txt"\r\n\r\nno'),
		]),
	);
};

describe('response header bytes outside ASCII are Latin-1', () => {
	let ok;
	let notFound;
	beforeAll(async () => {
		ok = await startRawServer(latin1Reply(200));
		notFound = await startRawServer(latin1Reply(404));
	});
	afterAll(async () => {
		await ok.close();
		await notFound.close();
	});

	it('send() hands them through as upstream does', async () => {
		for (const [name, request] of bothClients()) {
			const response = await request.send({ url: `${ok.url}/file` });
			expect([name, response.headers.get('content-disposition')]).toEqual([name, 'attachment; filename="café.txt"']);
		}
	});

	it('an error status still rejects with BalenaRequestError carrying the headers', async () => {
		for (const [name, request] of bothClients()) {
			const err = await request.send({ url: `${notFound.url}/file` }).catch((e) => e);
			expect([name, err.name, err.statusCode]).toEqual([name, 'BalenaRequestError', 404]);
			expect(err.responseHeaders.get('content-disposition')).toBe('attachment; filename="café.txt"');
		}
	});

	it('stream() resolves and shows them', async () => {
		for (const [name, request] of bothClients()) {
			const stream = await request.stream({ url: `${ok.url}/file` });
			const chunks = [];
			for await (const chunk of stream) chunks.push(chunk);
			expect([name, Buffer.concat(chunks).toString()]).toEqual([name, 'no']);
			expect(stream.response.headers.get('content-disposition')).toBe('attachment; filename="café.txt"');
		}
	});

	it('a byte outside ASCII in a header name fails the call in both', async () => {
		const server = await startRawServer((socket) => {
			socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX-'), Buffer.from([0xe9]), Buffer.from(': 1\r\nContent-Length: 0\r\n\r\n')]));
		});
		try {
			for (const [name, request] of bothClients()) {
				const err = await request.send({ url: `${server.url}/x` }).then(
					(response) => ({ message: `resolved ${response.statusCode}` }),
					(e) => e,
				);
				// (upstream's error comes from Node's own realm, not jest's)
				expect([name, describeError(err).class]).toEqual([name, 'TypeError']);
				expect(err.statusCode).toBeUndefined();
			}
		} finally {
			await server.close();
		}
	});
});

describe('request header values are checked the way Headers checks them', () => {
	let server;
	beforeAll(async () => {
		server = await startServer();
	});
	afterAll(() => server.close());

	const hostile = {
		'a Symbol': { 'X-A': Symbol('oops') },
		'a value whose toString throws': {
			'X-A': {
				toString() {
					throw new RangeError('nope');
				},
			},
		},
		'CR LF in a value': { 'X-A': 'a\r\nInjected: 1' },
		'NUL in a value': { 'X-A': 'a\0b' },
		'a space in a name': { 'X A': 'b' },
		'a character above U+00FF': { 'X-A': 'snow \u2603' },
	};

	it.each(Object.entries(hostile))('%s: the same error as upstream, and nothing sent', async (label, headers) => {
		const seen = {};
		for (const [name, request] of bothClients()) {
			const before = server.requests.length;
			const err = await request.send({ baseUrl: server.url, url: '/x', headers }).catch((e) => e);
			expect(server.requests.length).toBe(before);
			seen[name] = describeError(err);
		}
		expect(seen.native.class).toMatch(/Error$/);
		expect(seen.native).toEqual({ ...seen.upstream, requestOptions: undefined });
	});

	it.each(Object.entries(hostile))('%s set by a request hook: the same error as upstream', async (label, headers) => {
		const seen = {};
		for (const [name, request] of bothClients()) {
			request.interceptors.push({ request: (options) => ({ ...options, headers: { ...options.headers, ...headers } }) });
			const err = await request.send({ baseUrl: server.url, url: '/x' }).catch((e) => e);
			seen[name] = describeError(err);
		}
		expect(seen.native).toEqual(seen.upstream);
	});

	it('stream() refuses them too', async () => {
		for (const [name, request] of bothClients()) {
			const err = await request.stream({ baseUrl: server.url, url: '/x', headers: hostile['a Symbol'] }).catch((e) => e);
			expect([name, err.constructor.name]).toEqual([name, 'TypeError']);
		}
	});

	it('Latin-1 values go out as single bytes, trimmed, numbers and arrays as text', async () => {
		const seen = {};
		for (const [name, request] of bothClients()) {
			await request.send({ baseUrl: server.url, url: '/ok', headers: { 'X-Name': 'café', 'X-Pad': '  padded\t', 'X-N': 5, 'X-List': ['a', 'b'] } });
			const raw = server.last().rawHeaders;
			const pick = (wanted) => raw[raw.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === wanted) + 1];
			seen[name] = ['x-name', 'x-pad', 'x-n', 'x-list'].map(pick);
		}
		expect(seen.native).toEqual(['café', 'padded', '5', 'a,b']);
		expect(seen.native).toEqual(seen.upstream);
	});
});
