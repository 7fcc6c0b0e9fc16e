'use strict';
// Record streams (issue 14): `value` events and `records()` on stream()
// bodies that are JSON text sequences or line-delimited JSON.
const zlib = require('zlib');
const { Writable } = require('stream');
const getRequest = require('..');
const { startServer } = require('./helpers/server');

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const request = getRequest({});

/** Resolves when the response can take more, or is gone. */
const drained = (res) =>
	new Promise((resolve) => {
		const done = () => {
			res.off('drain', done);
			res.off('close', done);
			resolve();
		};
		res.on('drain', done);
		res.on('close', done);
	});
let server;

// A body with records that span chunks wherever it is cut: multi-byte UTF-8,
// empty lines or empty sequence records, CRLF, no final line end.
const SEQ_BODY = Buffer.from('\x1e{"a":1}\n\x1e\x1e\n\x1e["x",2]\r\n\x1e"é €😀"\n\x1e 3 \n\x1e{"b":[null,true]}');
const NDJSON_BODY = Buffer.from('{"a":1}\n\n["x",2]\r\n\r\n"é €😀"\n 3 \n{"b":[null,true]}');
const EXPECTED = [{ a: 1 }, ['x', 2], 'é €😀', 3, { b: [null, true] }];

/** Records of a stream, collected with `value` events until it ends or fails. */
function valuesOf(stream) {
	const values = [];
	stream.on('value', (value) => values.push(value));
	const done = new Promise((resolve) => {
		stream.on('end', () => resolve({ values, error: null }));
		stream.on('error', (error) => resolve({ values, error }));
	});
	return done;
}

async function recordsOf(stream) {
	const values = [];
	try {
		for await (const value of stream.records()) values.push(value);
	} catch (error) {
		return { values, error };
	}
	return { values, error: null };
}

beforeAll(async () => {
	server = await startServer({});
});
afterAll(() => server.close());

describe('record streams', () => {
	for (const [type, body] of [
		['application/json-seq', SEQ_BODY],
		['application/x-ndjson', NDJSON_BODY],
	]) {
		it(`${type}: a body cut in two at every byte gives the same records, and data gets every byte`, async () => {
			// The server sends the second part only once the client has
			// seen the first as its own chunk, so every cut really happens.
			let release;
			server.routes['/cut'] = async (req, res) => {
				const at = Number(new URL(req.url, 'http://x').searchParams.get('at'));
				res.writeHead(200, { 'Content-Type': type });
				if (at > 0) {
					const seen = new Promise((resolve) => (release = resolve));
					res.write(body.subarray(0, at));
					await seen;
				}
				res.end(body.subarray(at));
			};
			for (let at = 0; at < body.length; at++) {
				release = () => {};
				const stream = await request.stream({ baseUrl: server.url, url: `/cut?at=${at}` });
				const chunks = [];
				stream.on('data', (chunk) => {
					chunks.push(chunk);
					release();
				});
				const { values, error } = await valuesOf(stream);
				expect({ at, error }).toEqual({ at, error: null });
				expect({ at, values }).toEqual({ at, values: EXPECTED });
				expect(Buffer.concat(chunks).equals(body)).toBe(true);
				if (at > 0) {
					expect({ at, first: chunks[0].length }).toEqual({ at, first: at });
				}
			}
		}, 60000);
	}

	it('iterates many records sent in one chunk, in order', async () => {
		const lines = [];
		for (let i = 0; i < 20000; i++) lines.push(JSON.stringify({ i, s: 'x'.repeat(i % 50) }));
		server.routes['/many'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.end(`${lines.join('\n')}\n`);
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/many' });
		const { values, error } = await recordsOf(stream);
		expect(error).toBeNull();
		expect(values.length).toBe(20000);
		expect(values.every((value, i) => value.i === i && value.s.length === i % 50)).toBe(true);
	});

	it('ignores empty lines, takes CRLF and a last record without a line end', async () => {
		server.routes['/lines'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.end('\n\r\n1\r\n\n \t\n{"k":"v"}\r\n[]');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/lines' });
		expect(await recordsOf(stream)).toEqual({ values: [1, { k: 'v' }, []], error: null });
	});

	it('decodes each record on its own: bad UTF-8 becomes U+FFFD, later records keep their text', async () => {
		server.routes['/bad-utf8'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.end(Buffer.concat([Buffer.from('"a'), Buffer.from([0xc3]), Buffer.from('"\n"'), Buffer.from([0xa9]), Buffer.from('b"\n"😀"\n["é"]\n')]));
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/bad-utf8' });
		expect(await recordsOf(stream)).toEqual({ values: ['a\ufffd', '\ufffdb', '😀', ['é']], error: null });
	});

	it('matches the content types case-insensitively, parameters ignored', async () => {
		for (const type of ['Application/X-NDJSON; charset=utf-8', 'application/jsonl', 'application/x-jsonlines', 'APPLICATION/JSON-SEQ ; x=y']) {
			const body = type.toLowerCase().includes('seq') ? '\x1e[1]\n\x1e[2]\n' : '[1]\n[2]\n';
			server.routes['/typed'] = (req, res) => {
				res.writeHead(200, { 'Content-Type': type });
				res.end(body);
			};
			const stream = await request.stream({ baseUrl: server.url, url: '/typed' });
			expect({ type, ...(await recordsOf(stream)) }).toEqual({ type, values: [[1], [2]], error: null });
		}
	});

	it('errors on a 20 MiB record with the default limit, naming maxRecordBytes and its offset', async () => {
		let sent = 0;
		let closed = false;
		server.routes['/huge'] = async (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.on('close', () => (closed = true));
			res.write('{"ok":1}\n"');
			const piece = 'x'.repeat(1024 * 1024);
			for (let i = 0; i < 20 && !closed; i++) {
				sent += piece.length;
				if (!res.write(piece)) await drained(res);
			}
			res.end('"\n');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/huge' });
		let received = 0;
		stream.on('data', (chunk) => (received += chunk.length));
		const { values, error } = await valuesOf(stream);
		expect(values).toEqual([{ ok: 1 }]);
		expect(error).toBeInstanceOf(Error);
		expect(error.message).toBe(
			'The record at byte offset 9 of the response body is larger than maxRecordBytes (16777216 bytes)',
		);
		expect(error.code).toBe('ERR_RECORD_TOO_LARGE');
		expect(error.offset).toBe(9);
		// It failed as soon as the record passed the limit, not at its end.
		expect(received).toBeGreaterThan(16 * 1024 * 1024);
		expect(received).toBeLessThan(19 * 1024 * 1024);
		expect(sent).toBeGreaterThan(received);
	}, 30000);

	it('takes a smaller maxRecordBytes: exactly the limit passes, one byte more fails', async () => {
		server.routes['/limit'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/json-seq' });
			res.end('\x1e"12345678"\r\n\x1e"123456789"\n\x1e1\n');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/limit', maxRecordBytes: 10 });
		const { values, error } = await recordsOf(stream);
		expect(values).toEqual(['12345678']);
		expect(error.message).toBe('The record at byte offset 14 of the response body is larger than maxRecordBytes (10 bytes)');
		expect(error.offset).toBe(14);
	});

	it('refuses a maxRecordBytes that is not a positive number, before sending', async () => {
		const before = server.requests.length;
		for (const bad of [0, -1, '10', Number.NaN]) {
			await expect(request.stream({ baseUrl: server.url, url: '/limit', maxRecordBytes: bad })).rejects.toThrow(
				/^The maxRecordBytes option must be a positive number, got /,
			);
		}
		expect(server.requests.length).toBe(before);
	});

	it('errors with the byte offset of an invalid record, after the records before it', async () => {
		const body = '{"a":1}\n[2]\n{"bad":}\n[3]\n';
		server.routes['/invalid'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.end(body);
		};
		const viaEvents = await valuesOf(await request.stream({ baseUrl: server.url, url: '/invalid' }));
		expect(viaEvents.values).toEqual([{ a: 1 }, [2]]);
		expect(viaEvents.error.code).toBe('ERR_INVALID_RECORD');
		expect(viaEvents.error.offset).toBe(12);
		expect(viaEvents.error.message).toMatch(/^Invalid JSON record at byte offset 12 of the response body: /);
		expect(viaEvents.error.cause.name).toBe('SyntaxError');
		const viaRecords = await recordsOf(await request.stream({ baseUrl: server.url, url: '/invalid' }));
		expect(viaRecords.values).toEqual([{ a: 1 }, [2]]);
		expect(viaRecords.error.offset).toBe(12);
	});

	it('records() pulls the download only as fast as the loop consumes', async () => {
		// 256 MiB of 1 KiB records offered; the server writes only while
		// its writes do not block.
		let written = 0;
		let closed = false;
		const record = `${JSON.stringify({ pad: 'p'.repeat(1000) })}\n`;
		const block = record.repeat(64);
		server.routes['/endless'] = async (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.on('close', () => (closed = true));
			while (!closed && written < 256 * 1024 * 1024) {
				written += block.length;
				if (!res.write(block)) await drained(res);
			}
			res.end();
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/endless' });
		let count = 0;
		let mostBuffered = 0;
		for await (const value of stream.records()) {
			expect(value.pad.length).toBe(1000);
			count += 1;
			mostBuffered = Math.max(mostBuffered, stream.readableLength);
			if (count % 100 === 0) await delay(10);
			if (count === 20000) break;
		}
		await delay(100);
		const writtenWhileSlow = written;
		// 20,000 records is ~20 MB; what the server got out beyond that sits
		// in socket buffers and one 1 MiB stream buffer.
		expect(writtenWhileSlow).toBeLessThan(48 * 1024 * 1024);
		// The stream itself holds at most about its 1 MiB buffer plus a chunk.
		expect(mostBuffered).toBeLessThan(3 * 1024 * 1024);
		// Breaking out of the loop cancelled the download.
		for (let i = 0; i < 50 && !closed; i++) await delay(20);
		expect(closed).toBe(true);
		expect(stream.destroyed).toBe(true);
	}, 60000);

	it('stops the server while a records() consumer waits', async () => {
		let written = 0;
		let blocked = false;
		let closed = false;
		const block = `${JSON.stringify({ pad: 'q'.repeat(1000) })}\n`.repeat(64);
		server.routes['/stall'] = async (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.on('close', () => (closed = true));
			while (!closed && written < 256 * 1024 * 1024) {
				written += block.length;
				if (!res.write(block)) {
					blocked = true;
					await drained(res);
					blocked = false;
				}
			}
			res.end();
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/stall' });
		const iterator = stream.records()[Symbol.asyncIterator]();
		expect((await iterator.next()).value.pad.length).toBe(1000);
		// The consumer holds on to its first record for a while.
		await delay(1000);
		const stalledAt = written;
		await delay(300);
		expect(blocked).toBe(true);
		expect(written).toBe(stalledAt);
		expect(written).toBeLessThan(32 * 1024 * 1024);
		await iterator.return();
		for (let i = 0; i < 50 && !closed; i++) await delay(20);
		expect(closed).toBe(true);
	}, 30000);

	it('gives value events and every byte to pipe() at the same time', async () => {
		server.routes['/both'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.end(NDJSON_BODY);
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/both' });
		const chunks = [];
		const sink = new Writable({
			write(chunk, encoding, callback) {
				chunks.push(chunk);
				callback();
			},
		});
		const values = [];
		stream.on('value', (value) => values.push(value));
		stream.pipe(sink);
		await new Promise((resolve) => sink.on('finish', resolve));
		expect(values).toEqual(EXPECTED);
		expect(Buffer.concat(chunks).equals(NDJSON_BODY)).toBe(true);
	});

	it('a value listener alone starts the flow, as a data listener does', async () => {
		server.routes['/flow'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/jsonl' });
			res.end('1\n2\n');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/flow' });
		const values = [];
		stream.on('value', (value) => values.push(value));
		await new Promise((resolve) => stream.on('end', resolve));
		expect(values).toEqual([1, 2]);
	});

	it('splits gzip record streams after decoding; offsets count decoded bytes', async () => {
		const lines = [];
		for (let i = 0; i < 5000; i++) lines.push(JSON.stringify({ i }));
		const good = zlib.gzipSync(`${lines.join('\n')}\n`);
		const badBody = '{"a":1}\n{"b":2}\n{oops}\n';
		const bad = zlib.gzipSync(badBody);
		server.routes['/gzip'] = (req, res) => {
			const body = req.url.includes('bad') ? bad : good;
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' });
			// Cut the compressed bytes too.
			res.write(body.subarray(0, 7));
			setTimeout(() => res.end(body.subarray(7)), 20);
		};
		const { values, error } = await recordsOf(await request.stream({ baseUrl: server.url, url: '/gzip' }));
		expect(error).toBeNull();
		expect(values).toEqual(lines.map((line) => JSON.parse(line)));
		const failed = await valuesOf(await request.stream({ baseUrl: server.url, url: '/gzip?bad' }));
		expect(failed.values).toEqual([{ a: 1 }, { b: 2 }]);
		expect(failed.error.offset).toBe(badBody.indexOf('{oops}'));
	});

	it('other content types: records() throws a clear error and no value events come', async () => {
		server.routes['/json'] = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('[1]\n[2]\n');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/json' });
		expect(() => stream.records()).toThrow(
			'records() needs a record stream (Content-Type application/json-seq, application/x-ndjson, application/jsonl or application/x-jsonlines); this response\'s Content-Type is "application/json"',
		);
		const values = [];
		stream.on('value', (value) => values.push(value));
		const chunks = [];
		for await (const chunk of stream) chunks.push(chunk);
		expect(Buffer.concat(chunks).toString()).toBe('[1]\n[2]\n');
		expect(values).toEqual([]);

		server.routes['/untyped'] = (req, res) => {
			res.removeHeader('Content-Type');
			res.end('[1]\n');
		};
		const untyped = await request.stream({ baseUrl: server.url, url: '/untyped' });
		expect(() => untyped.records()).toThrow(/this response's Content-Type is missing$/);
		untyped.destroy();
	});

	it('a value listener added after the body started gets the records that begin later', async () => {
		let release;
		server.routes['/late'] = async (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			res.write('[1]\n[2');
			await new Promise((resolve) => (release = resolve));
			res.end(']\n[3]\n[4]');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/late' });
		const values = [];
		await new Promise((resolve) => stream.once('data', resolve));
		stream.on('value', (value) => values.push(value));
		stream.resume();
		release();
		await new Promise((resolve) => stream.on('end', resolve));
		// [2] had started before the listener: the first record it sees is [3].
		expect(values).toEqual([[3], [4]]);
	});

	it('a value listener added right after a line end gets the very next record', async () => {
		let release;
		server.routes['/late-boundary'] = async (req, res) => {
			res.writeHead(200, { 'Content-Type': 'application/json-seq' });
			res.write('\x1e[1]\n\x1e');
			await new Promise((resolve) => (release = resolve));
			res.end('[2]\n\x1e[3]\n');
		};
		const stream = await request.stream({ baseUrl: server.url, url: '/late-boundary' });
		const values = [];
		const first = await new Promise((resolve) => stream.once('data', resolve));
		expect(first.toString()).toBe('\x1e[1]\n\x1e');
		stream.on('value', (value) => values.push(value));
		stream.resume();
		release();
		await new Promise((resolve) => stream.on('end', resolve));
		expect(values).toEqual([[2], [3]]);
	});
});
