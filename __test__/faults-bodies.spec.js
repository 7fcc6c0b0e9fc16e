'use strict';
// Bodies shorter than declared, on every protocol and every way a body can
// end early, are errors, never a silently truncated success; decompression
// bombs are refused by send() (a documented size limit) and the timeout
// holds while decoding; stream() stays bounded by backpressure.
const { execFileSync } = require('child_process');
const path = require('path');
const zlib = require('zlib');
const getRequest = require('..');
const { startRawServer } = require('./helpers/raw-server');
const { makeCertificates } = require('./helpers/certificates');

const KiB = 1024;
const MiB = 1024 * KiB;

const drain = async (stream) => {
	let bytes = 0;
	for await (const chunk of stream) bytes += chunk.length;
	return bytes;
};

describe('HTTP/2: a stream that ends before its content-length', () => {
	// In a child process: the engine reads NODE_EXTRA_CA_CERTS from the real
	// environment, which jest does not pass on from a test file.
	let results;
	beforeAll(() => {
		const certificates = makeCertificates();
		try {
			const out = execFileSync(
				process.execPath,
				[path.join(__dirname, 'fixtures', 'h2-cut-short-child.js'), certificates.server.keyPath, certificates.server.certPath],
				{ env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.ca.certPath }, encoding: 'utf8', timeout: 30000 },
			);
			results = JSON.parse(out);
		} finally {
			certificates.remove();
		}
	});

	it('is HTTP/2 with a trusted certificate, and a whole body arrives whole', () => {
		expect(results.whole).toEqual({ ok: true, value: 'whole' });
	});

	it.each([
		'RST_STREAM(NO_ERROR)',
		'RST_STREAM(CANCEL)',
		'RST_STREAM(INTERNAL_ERROR)',
		'GOAWAY(NO_ERROR), then the connection closes',
		'the connection lost',
	])('%s after 64 KiB of 1 MiB: send() rejects and stream() errors', (ending) => {
		const { send, stream } = results[ending];
		expect(send).toMatchObject({ ok: false, name: 'TypeError' });
		expect(send.message).toMatch(/^(terminated|fetch failed)$/);
		expect(stream.ok).toBe(false);
	});
});

describe('HTTP/1.1: a body that ends before its Content-Length', () => {
	const request = getRequest({});
	it.each([
		['closed (FIN)', (socket) => socket.end()],
		['reset (RST)', (socket) => socket.resetAndDestroy()],
	])('%s: send() and stream() fail', async (name, end) => {
		const server = await startRawServer((socket) => {
			socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MiB}\r\n\r\n`);
			socket.write(Buffer.alloc(64 * KiB, 2), () => setTimeout(() => end(socket), 20));
		});
		try {
			await expect(request.send({ url: `${server.url}/x` })).rejects.toThrow();
			const stream = await request.stream({ url: `${server.url}/x` });
			await expect(drain(stream)).rejects.toThrow();
		} finally {
			await server.close();
		}
	});

	it('a HEAD, a 204 and a 304 with a Content-Length and no body are fine', async () => {
		const server = await startRawServer((socket, head) => {
			const status = head.startsWith('HEAD') ? 200 : head.includes('/204') ? 204 : 304;
			// One response per connection (this server reads one request head).
			socket.end(`HTTP/1.1 ${status} X\r\nContent-Length: 1234\r\n\r\n`);
		});
		try {
			expect((await request.send({ url: `${server.url}/h`, method: 'HEAD' })).statusCode).toBe(200);
			expect((await request.send({ url: `${server.url}/204` })).statusCode).toBe(204);
			expect((await request.send({ url: `${server.url}/304` })).statusCode).toBe(304);
		} finally {
			await server.close();
		}
	});

	it('a body longer than declared gives the declared bytes only', async () => {
		const server = await startRawServer((socket) => {
			socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello, and more');
		});
		try {
			expect((await request.send({ url: `${server.url}/x` })).body).toBe('hello');
		} finally {
			await server.close();
		}
	});
});

describe('decompression bombs', () => {
	// One gzip member of 64 MiB of zeros is about 64 KiB; members may follow
	// one another, so a server can send as many GiB as it likes, cheaply.
	const member = zlib.gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
	let server;
	let sent;
	beforeAll(async () => {
		server = await startRawServer((socket) => {
			sent = 0;
			socket.on('error', () => {});
			socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n');
			// 160 members: 10 GiB decoded from about 10 MB.
			const more = () => {
				while (sent < 160 && !socket.destroyed) {
					sent++;
					const ok = socket.write(`${member.length.toString(16)}\r\n`) && socket.write(member) && socket.write('\r\n');
					if (!ok) {
						socket.once('drain', more);
						return;
					}
				}
				if (!socket.destroyed) socket.end('0\r\n\r\n');
			};
			more();
		});
	});
	afterAll(() => server.close());
	const url = () => `${server.url}/bomb`;

	it('send() refuses a decoded body beyond the default 512 MiB, naming the option, with bounded memory', async () => {
		const before = process.memoryUsage().rss;
		const started = Date.now();
		const err = await getRequest({}).send({ url: url(), timeout: 30000 }).catch((e) => e);
		expect(err.code).toBe('ERR_BALENA_RESPONSE_TOO_LARGE');
		expect(err.message).toMatch(/maxResponseSize \(536870912 bytes\)/);
		expect(err.requestOptions).toBeDefined();
		// Refused at the limit, long before the 10 GiB end.
		expect(Date.now() - started).toBeLessThan(15000);
		expect(process.memoryUsage().rss - before).toBeLessThan(1200 * MiB);
	});

	it('the limit is an option of send()', async () => {
		const err = await getRequest({}).send({ url: url(), maxResponseSize: 4 * MiB }).catch((e) => e);
		expect(err.code).toBe('ERR_BALENA_RESPONSE_TOO_LARGE');
		expect(err.message).toMatch(/maxResponseSize \(4194304 bytes\)/);
	});

	it('the timeout holds while decoding', async () => {
		const started = Date.now();
		const err = await getRequest({})
			.send({ url: url(), timeout: 300, maxResponseSize: 64 * 1024 * MiB })
			.catch((e) => e);
		expect(err.message).toBe('network timeout');
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it('stream() hands out the bytes as the consumer reads them, with bounded memory', async () => {
		const stream = await getRequest({}).stream({ url: url() });
		const before = process.memoryUsage().rss;
		let bytes = 0;
		for await (const chunk of stream) {
			bytes += chunk.length;
			if (bytes >= 1024 * MiB) break;
		}
		expect(bytes).toBeGreaterThanOrEqual(1024 * MiB);
		expect(process.memoryUsage().rss - before).toBeLessThan(256 * MiB);
	});
});
