'use strict';
// compat.md "Streams".
const crypto = require('crypto');
const zlib = require('zlib');
const { PassThrough, Writable } = require('stream');
const { pipeline } = require('stream/promises');
const errors = require('balena-errors');
const getRequest = require('..');
const utils = require('../utils');
const { startServer, text } = require('./helpers/server');

const message = 'Lorem ipsum dolor sit amet';
// zlib.crc32 arrived in Node 20.15/22.2; a bitwise fallback for older Nodes.
const crc32 = (buf) => {
	let crc = ~0;
	for (const byte of buf) {
		crc ^= byte;
		for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc >>> 0;
};
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let server;
const request = getRequest({});

const collect = async (stream) => {
	const chunks = [];
	for await (const chunk of stream) chunks.push(chunk);
	return Buffer.concat(chunks);
};
const progressOf = (stream) => {
	const events = [];
	stream.on('progress', (event) => events.push(event));
	return events;
};

beforeAll(async () => {
	const gz = zlib.gzipSync(message);
	server = await startServer({
		'/plain': text(200, message),
		'/gzip-transfer-length': (req, res) => {
			// No Content-Length: chunked, as an image server sends it.
			res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'X-Transfer-Length': String(gz.length) });
			res.end(gz);
		},
		'/gzip-content-length': (req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length) });
			res.end(gz);
		},
		'/gzip-both': (req, res) => {
			res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length), 'X-Transfer-Length': '999' });
			res.end(gz);
		},
		'/error': text(400, 'Something happened'),
		'/error-empty': (req, res) => {
			res.writeHead(503);
			res.end();
		},
	});
});
afterAll(() => server.close());

describe('stream()', () => {
	it('resolves to a Readable with .mime and .response and no .length', async () => {
		const stream = await request.stream({ baseUrl: server.url, url: '/plain' });
		expect(typeof stream.pipe).toBe('function');
		expect(stream.mime).toBe('text/plain');
		expect(stream.response.statusCode).toBe(200);
		expect(stream.response.headers.get('content-type')).toBe('text/plain');
		expect(stream.length).toBeUndefined();
		expect(await utils.getStreamContents(stream)).toBe(message);
		expect(server.last().headers['accept-encoding']).toBe('gzip, deflate');
	});

	it('sends the method and body, and applies request hooks', async () => {
		const hooked = getRequest({ interceptors: [{ request: (o) => ({ ...o, headers: { ...o.headers, 'X-Hook': 'yes' } }) }] });
		const stream = await hooked.stream({ baseUrl: server.url, url: '/plain', method: 'POST', body: { a: 1 } });
		await collect(stream);
		expect(server.last().method).toBe('POST');
		expect(server.last().body.toString()).toBe('{"a":1}');
		expect(server.last().headers['x-hook']).toBe('yes');
	});

	it('loses nothing when piped 200 ms after it resolved', async () => {
		const stream = await request.stream({ baseUrl: server.url, url: '/plain' });
		await delay(200);
		const pass = new PassThrough();
		stream.pipe(pass);
		expect(await utils.getStreamContents(pass)).toBe(message);
	});

	it('gives exactly one progress event for the one-shot 46-byte gzip with X-Transfer-Length', async () => {
		const stream = await request.stream({ baseUrl: server.url, url: '/gzip-transfer-length' });
		const events = progressOf(stream);
		expect((await collect(stream)).toString()).toBe(message);
		expect(events).toEqual([{ total: 46, received: 46, eta: 0, percentage: 100 }]);
	});

	it('counts the bytes on the wire when Content-Length is the only length of a gzip body', async () => {
		// That Content-Length is the compressed length: counting decoded bytes
		// against it would pass 100%.
		const stream = await request.stream({ baseUrl: server.url, url: '/gzip-content-length' });
		const events = progressOf(stream);
		expect((await collect(stream)).toString()).toBe(message);
		expect(events).toEqual([{ total: 46, received: 46, eta: 0, percentage: 100 }]);
	});

	it('counts decompressed bytes when both Content-Length and X-Transfer-Length are given', async () => {
		const stream = await request.stream({ baseUrl: server.url, url: '/gzip-both' });
		const events = progressOf(stream);
		expect((await collect(stream)).toString()).toBe(message);
		expect(events.length).toBe(1);
		expect(events[0].total).toBe(46);
		expect(events[0].received).toBe(message.length);
		expect(events[0].percentage).toBe(100);
	});

	it('emits progress undefined when the total is unknown', async () => {
		server.routes['/chunked'] = (req, res) => {
			res.writeHead(200);
			res.end('abc');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/chunked' });
		const events = progressOf(stream);
		await collect(stream);
		expect(events).toEqual([undefined]);
	});

	it('emits several progress events on a multi-second download, ending at 100%', async () => {
		const piece = Buffer.alloc(64 * 1024, 7);
		const pieces = 24;
		server.routes['/slow'] = async (req, res) => {
			res.writeHead(200, { 'Content-Length': String(piece.length * pieces) });
			for (let i = 0; i < pieces; i++) {
				res.write(piece);
				await delay(100);
			}
			res.end();
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/slow' });
		const events = progressOf(stream);
		const body = await collect(stream);
		expect(body.length).toBe(piece.length * pieces);
		expect(events.length).toBeGreaterThanOrEqual(4);
		expect(events.length).toBeLessThanOrEqual(8);
		for (let i = 1; i < events.length; i++) {
			expect(events[i].received).toBeGreaterThanOrEqual(events[i - 1].received);
		}
		const last = events[events.length - 1];
		expect(last).toEqual({ total: body.length, received: body.length, eta: 0, percentage: 100 });
		expect(events[0].percentage).toBeLessThan(100);
		expect(events[0].eta).toBeGreaterThan(0);
	});

	it('rejects an error status with BalenaRequestError and the body text', async () => {
		const err = await request.stream({ baseUrl: server.url, url: '/error' }).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaRequestError);
		expect(err.message).toBe('Request error: Something happened');
		expect(err.statusCode).toBe(400);
		const empty = await request.stream({ baseUrl: server.url, url: '/error-empty' }).catch((e) => e);
		expect(empty.message).toBe('Request error: The request was unsuccessful');
		expect(empty.statusCode).toBe(503);
	});

	it('lets a response hook replace the stream', async () => {
		const replacement = new PassThrough();
		replacement.end('replaced');
		const hooked = getRequest({ interceptors: [{ response: (stream) => { stream.destroy(); return replacement; } }] });
		const stream = await hooked.stream({ baseUrl: server.url, url: '/plain' });
		expect(stream).toBe(replacement);
	});

	it('emits an error for a body shorter than its Content-Length', async () => {
		server.routes['/truncated'] = (req, res) => {
			res.writeHead(200, { 'Content-Length': '100000' });
			res.write(Buffer.alloc(5000));
			setTimeout(() => res.socket.destroy(), 50);
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/truncated' });
		const err = await collect(stream).then(() => null, (e) => e);
		expect(err).toBeInstanceOf(Error);
		// node-fetch's error for a body cut short (see network-errors.spec.js).
		expect(err).toMatchObject({ message: 'Premature close', code: 'ERR_STREAM_PREMATURE_CLOSE' });
	});

	// Serves `gz` as a gzip body at `path` and returns the error the stream emits.
	const streamErrorFor = async (path, gz) => {
		server.routes[path] = (req, res) => {
			res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length) });
			res.end(gz);
		};
		const stream = await request.stream({ baseUrl: server.url, url: path });
		return collect(stream).then(() => null, (e) => e);
	};

	it('emits an error for a corrupt gzip body', async () => {
		const gz = zlib.gzipSync(Buffer.alloc(100000, 'a'));
		for (let i = 20; i < 60; i++) gz[i] ^= 0x55;
		const err = await streamErrorFor('/corrupt', gz);
		expect(err).toBeInstanceOf(Error);
		expect(err.message).toMatch(/invalid compressed response body/);
	});

	it('emits an error when the gzip trailer does not match the data (CRC-32)', async () => {
		const gz = zlib.gzipSync(crypto.randomBytes(300000));
		gz[gz.length - 8] ^= 1; // the first byte of the CRC-32
		const err = await streamErrorFor('/bad-crc', gz);
		expect(err).toBeInstanceOf(Error);
		expect(err.message).toMatch(/invalid compressed response body: incorrect data check/);
	});

	it('decodes a gzip with a file name and comment in its header, split into small writes', async () => {
		// What `gzip balena.img` writes: the FNAME field, here with a comment too.
		const data = Buffer.from('0123456789abcdef'.repeat(20000));
		const raw = zlib.deflateRawSync(data);
		const header = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x18, 0, 0, 0, 0, 0, 3]), Buffer.from('balena.img\0an image\0')]);
		const trailer = Buffer.alloc(8);
		trailer.writeUInt32LE(zlib.crc32 ? zlib.crc32(data) : crc32(data), 0);
		trailer.writeUInt32LE(data.length, 4);
		const gz = Buffer.concat([header, raw, trailer]);
		expect(zlib.gunzipSync(gz).equals(data)).toBe(true);
		server.routes['/named-gzip'] = async (req, res) => {
			res.writeHead(200, { 'Content-Encoding': 'gzip' });
			for (let at = 0; at < gz.length; at += 5) {
				res.write(gz.subarray(at, at + 5));
				if (at < 40) await delay(5);
			}
			res.end();
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/named-gzip' });
		expect((await collect(stream)).equals(data)).toBe(true);
	});

	it('yields the data of a slightly truncated gzip (lenient like curl)', async () => {
		const full = Buffer.alloc(50000, 'z');
		const gz = zlib.gzipSync(full);
		const cut = gz.subarray(0, gz.length - 8); // without the gzip trailer
		server.routes['/cut-gzip'] = (req, res) => {
			res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': String(cut.length) });
			res.end(cut);
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/cut-gzip' });
		expect((await collect(stream)).equals(full)).toBe(true);
	});

	it('aborts mid-download with the signal: the server sees the close and the stream errors', async () => {
		let serverClosed = false;
		server.routes['/endless'] = (req, res) => {
			res.writeHead(200, { 'Content-Length': String(1 << 30) });
			const chunk = Buffer.alloc(64 * 1024);
			const pump = () => {
				while (!res.destroyed && res.write(chunk));
			};
			res.on('drain', pump);
			res.on('close', () => {
				serverClosed = true;
			});
			pump();
		};
		const controller = new AbortController();
		const stream = await request.stream({ baseUrl: server.url, url: '/endless', signal: controller.signal });
		let received = 0;
		const done = new Promise((resolve) => {
			stream.on('data', (chunk) => {
				received += chunk.length;
				if (received > 4 * 1024 * 1024) controller.abort();
			});
			stream.on('error', resolve);
		});
		const err = await done;
		expect(err.name).toBe('AbortError');
		for (let i = 0; i < 40 && !serverClosed; i++) await delay(50);
		expect(serverClosed).toBe(true);
	});

	it('a slow consumer slows the download: memory stays bounded', async () => {
		let sent = 0;
		server.routes['/fast'] = (req, res) => {
			res.writeHead(200, { 'Content-Length': String(1 << 30) });
			const chunk = Buffer.alloc(256 * 1024, 1);
			const pump = () => {
				while (!res.destroyed && sent < 1 << 30 && res.write(chunk)) sent += chunk.length;
			};
			res.on('drain', pump);
			pump();
		};
		global.gc?.();
		const before = process.memoryUsage().rss;
		const controller = new AbortController();
		const stream = await request.stream({ baseUrl: server.url, url: '/fast', signal: controller.signal });
		stream.on('error', () => {}); // the abort at the end
		let consumed = 0;
		// About 20 MB/s for 2 seconds.
		const sink = new Writable({
			highWaterMark: 1024 * 1024,
			write(chunk, enc, callback) {
				consumed += chunk.length;
				setTimeout(callback, (chunk.length / (20 * 1024 * 1024)) * 1000);
			},
		});
		stream.pipe(sink);
		await delay(2000);
		const grown = process.memoryUsage().rss - before;
		stream.unpipe(sink);
		controller.abort();
		expect(consumed).toBeGreaterThan(10 * 1024 * 1024);
		expect(consumed).toBeLessThan(200 * 1024 * 1024);
		expect(sent - consumed).toBeLessThan(64 * 1024 * 1024);
		expect(grown).toBeLessThan(64 * 1024 * 1024);
	});

	it('reads only a few chunks ahead of a consumer that stopped, even when 1 MB inflates to 1 GiB; destroy() closes', async () => {
		// 64 gzip members of 16 MiB of zeros: 1 GiB decoded from about 1 MB.
		const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));
		const members = 64;
		let serverClosed = false;
		server.routes['/bomb'] = (req, res) => {
			res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': String(member.length * members) });
			let sent = 0;
			const pump = () => {
				while (!res.destroyed && sent < members && res.write(member)) sent++;
				if (sent === members) res.end();
			};
			res.on('drain', pump);
			// The whole body fits in the sockets' buffers: the connection
			// closing (not the response ending) is the client letting go.
			req.socket.on('close', () => {
				serverClosed = true;
			});
			pump();
		};
		global.gc?.();
		const before = process.memoryUsage().rss;
		const stream = await request.stream({ baseUrl: server.url, url: '/bomb' });
		const first = await new Promise((resolve) => stream.once('data', resolve));
		stream.pause();
		await delay(1000);
		const grown = process.memoryUsage().rss - before;
		// Read ahead without a bound, the download would hold the whole GiB.
		expect(first.length).toBeGreaterThan(0);
		expect(grown).toBeLessThan(128 * 1024 * 1024);
		expect(stream.readableLength).toBeLessThanOrEqual(2 * 1024 * 1024);
		expect(serverClosed).toBe(false);
		stream.destroy();
		for (let i = 0; i < 40 && !serverClosed; i++) await delay(50);
		expect(serverClosed).toBe(true);
	});

	it('downloads 1 GiB intact (sha256 matches)', async () => {
		const block = crypto.randomBytes(1024 * 1024);
		const blocks = 1024;
		const expected = crypto.createHash('sha256');
		for (let i = 0; i < blocks; i++) expected.update(block);
		server.routes['/big'] = (req, res) => {
			res.writeHead(200, { 'Content-Length': String(block.length * blocks), 'Content-Type': 'application/octet-stream' });
			let i = 0;
			const pump = () => {
				while (i < blocks) {
					i++;
					if (!res.write(block)) return;
				}
				res.end();
			};
			res.on('drain', pump);
			pump();
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/big' });
		const hash = crypto.createHash('sha256');
		let length = 0;
		await pipeline(stream, new Writable({
			highWaterMark: 4 * 1024 * 1024,
			write(chunk, enc, callback) {
				length += chunk.length;
				hash.update(chunk);
				callback();
			},
		}));
		expect(length).toBe(block.length * blocks);
		expect(hash.digest('hex')).toBe(expected.digest('hex'));
	}, 60000);
});
