'use strict';
// stream() downloads that resume after a connection fails mid-body: raw TCP
// servers cut, reset or stall the body at chosen offsets and answer the
// ranged re-request as a good or a broken server would; the tests check the
// bytes the caller got (sha256), its progress events, and every request
// head the server saw (Range, If-Range, the caller's own headers).
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const getRequest = require('..');
const { startRawServer } = require('./helpers/raw-server');

const KiB = 1024;
const MiB = 1024 * KiB;

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

/** The request head's line and headers (names lower-cased). */
function parseHead(head) {
	const [line, ...rest] = head.split('\r\n\r\n')[0].split('\r\n');
	const headers = {};
	for (const field of rest) {
		const colon = field.indexOf(':');
		headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
	}
	return { line, headers };
}

/**
 * A server whose every connection is answered by `respond(socket, request,
 * index)`, `request` being the parsed head. It records the heads.
 */
async function startServer(respond) {
	const heads = [];
	const server = await startRawServer((socket, text) => {
		const request = parseHead(text);
		heads.push(request);
		respond(socket, request, heads.length - 1);
	});
	return { ...server, url: `${server.url}/image.img`, heads };
}

const head = (status, headers) =>
	`HTTP/1.1 ${status} X\r\n${Object.entries(headers)
		.map(([name, value]) => `${name}: ${value}`)
		.join('\r\n')}\r\n\r\n`;

/**
 * Sends `body` from `start` (a 206 when `start > 0` or `partial`), and
 * either all of it, or up to `cutAt` and then: `'close'` (a clean close once
 * those bytes left), `'reset'` (a TCP reset), `'stall'` (nothing more).
 */
function serve(socket, body, { start = 0, cutAt, end = 'close', status, headers = {}, partial = start > 0 }) {
	const base = partial
		? {
				'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
				'Content-Length': body.length - start,
			}
		: { 'Content-Length': body.length };
	socket.write(head(status ?? (partial ? 206 : 200), { ...base, ...headers }));
	if (cutAt === undefined) {
		socket.end(body.subarray(start));
		return;
	}
	socket.write(body.subarray(start, cutAt), () => {
		if (end === 'close') socket.end();
		else if (end === 'reset') socket.resetAndDestroy();
	});
}

/** The range a request asks for: its first byte, or undefined. */
const rangeStart = (request) => {
	const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
	return match ? Number(match[1]) : undefined;
};

const RESUMABLE = { 'Accept-Ranges': 'bytes', ETag: '"img-1"', 'Content-Type': 'application/octet-stream' };

/** Reads a stream whole; returns its bytes, progress events and error. */
async function consume(stream) {
	const chunks = [];
	const progress = [];
	stream.on('progress', (event) => progress.push(event));
	let error;
	try {
		for await (const chunk of stream) chunks.push(chunk);
	} catch (err) {
		error = err;
	}
	return { data: Buffer.concat(chunks), progress, error };
}

const expectMonotonic = (progress, total) => {
	expect(progress.length).toBeGreaterThan(1);
	for (let i = 1; i < progress.length; i++) {
		expect(progress[i].received).toBeGreaterThanOrEqual(progress[i - 1].received);
		expect(progress[i].percentage).toBeGreaterThanOrEqual(progress[i - 1].percentage);
	}
	for (const event of progress) expect(event.total).toBe(total);
	expect(progress[progress.length - 1]).toMatchObject({ received: total, percentage: 100 });
};

let server;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

const request = getRequest({});

describe('a download cut mid-body resumes', () => {
	it('64 MiB cut three times arrives sha256-identical, progress monotonic to 100%', async () => {
		const body = crypto.randomBytes(64 * MiB);
		const cuts = [5 * MiB + 123, 23 * MiB + 7, 51 * MiB + 999];
		server = await startServer((socket, req, index) => {
			const start = rangeStart(req) ?? 0;
			// The last cut is a reset: bytes in flight may be lost, so the
			// next Range starts wherever the client really got to.
			serve(socket, body, { start, cutAt: cuts[index], end: index === 2 ? 'reset' : 'close', headers: RESUMABLE });
		});
		const stream = await request.stream({ url: server.url, headers: { Authorization: 'Bearer secret' } });
		const { data, progress, error } = await consume(stream);
		expect(error).toBeUndefined();
		expect(data.length).toBe(body.length);
		expect(sha256(data)).toBe(sha256(body));
		expectMonotonic(progress, body.length);

		expect(server.heads.map((h) => h.headers.range)).toEqual([
			undefined,
			`bytes=${cuts[0]}-`,
			`bytes=${cuts[1]}-`,
			expect.stringMatching(/^bytes=\d+-$/),
		]);
		expect(rangeStart(server.heads[3])).toBeGreaterThan(cuts[1]);
		expect(rangeStart(server.heads[3])).toBeLessThanOrEqual(cuts[2]);
		// The same request each time (same method, path and headers), with
		// the range and the validator added.
		const [first, ...resumes] = server.heads;
		expect(first.headers.authorization).toBe('Bearer secret');
		for (const resume of resumes) {
			expect(resume.line).toBe(first.line);
			expect(resume.headers['if-range']).toBe('"img-1"');
			const { range, 'if-range': ifRange, ...others } = resume.headers;
			expect(others).toEqual(first.headers);
		}
	});

	it('a gzip body cut mid-way decodes to the exact original bytes', async () => {
		const original = Buffer.concat(
			Array.from({ length: 4096 }, (_, i) => Buffer.from(`line ${i} ${crypto.randomBytes(96).toString('base64')}\n`)),
		);
		const gzipped = zlib.gzipSync(original);
		const cut = Math.floor(gzipped.length / 2) + 17;
		server = await startServer((socket, req, index) => {
			const start = rangeStart(req) ?? 0;
			serve(socket, gzipped, {
				start,
				cutAt: index === 0 ? cut : undefined,
				headers: { ...RESUMABLE, 'Content-Encoding': 'gzip' },
			});
		});
		const stream = await request.stream({ url: server.url });
		const { data, progress, error } = await consume(stream);
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(original));
		// The offset counts wire (compressed) bytes.
		expect(server.heads.map((h) => h.headers.range)).toEqual([undefined, `bytes=${cut}-`]);
		expectMonotonic(progress, gzipped.length);
	});

	it('with only Last-Modified, If-Range carries the date', async () => {
		const body = crypto.randomBytes(2 * MiB);
		const date = 'Tue, 24 Nov 2026 10:00:00 GMT';
		server = await startServer((socket, req, index) => {
			serve(socket, body, {
				start: rangeStart(req) ?? 0,
				cutAt: index === 0 ? MiB : undefined,
				headers: { 'Accept-Ranges': 'bytes', ETag: 'W/"weak"', 'Last-Modified': date },
			});
		});
		const { data, error } = await consume(await request.stream({ url: server.url }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(body));
		expect(server.heads[1].headers).toMatchObject({ range: `bytes=${MiB}-`, 'if-range': date });
	});

	it('a body that stalls past idleTimeout is asked for again', async () => {
		const body = crypto.randomBytes(3 * MiB);
		server = await startServer((socket, req, index) => {
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 0 ? MiB : undefined, end: 'stall', headers: RESUMABLE });
		});
		const started = Date.now();
		const { data, progress, error } = await consume(await request.stream({ url: server.url, idleTimeout: 300 }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(body));
		expectMonotonic(progress, body.length);
		expect(server.heads.map((h) => h.headers.range)).toEqual([undefined, `bytes=${MiB}-`]);
		// 300 ms of silence, then the 500 ms backoff.
		expect(Date.now() - started).toBeGreaterThanOrEqual(750);
	});

	it('a re-request whose answer does not come within idleTimeout is a failed attempt, and the next one goes on', async () => {
		const body = crypto.randomBytes(2 * MiB);
		server = await startServer((socket, req, index) => {
			if (index === 1) return; // accepts the re-request, never answers
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 0 ? MiB : undefined, headers: RESUMABLE });
		});
		const { data, error } = await consume(await request.stream({ url: server.url, idleTimeout: 300 }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(body));
		expect(server.heads.map((h) => h.headers.range)).toEqual([undefined, `bytes=${MiB}-`, `bytes=${MiB}-`]);
	});

	it('after a redirect to another origin, the re-request carries no Authorization either', async () => {
		const body = crypto.randomBytes(2 * MiB);
		server = await startServer((socket, req, index) => {
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 0 ? MiB : undefined, headers: RESUMABLE });
		});
		const origin = await startServer((socket) => socket.end(head(302, { Location: server.url, 'Content-Length': 0 })));
		try {
			const stream = await request.stream({ url: origin.url, headers: { Authorization: 'Bearer secret' } });
			const { data, error } = await consume(stream);
			expect(error).toBeUndefined();
			expect(sha256(data)).toBe(sha256(body));
			expect(origin.heads[0].headers.authorization).toBe('Bearer secret');
			expect(server.heads.map((h) => [h.headers.range, h.headers.authorization])).toEqual([
				[undefined, undefined],
				[`bytes=${MiB}-`, undefined],
			]);
		} finally {
			await origin.close();
		}
	});

	it('resume: { maxAttempts: Infinity } is as many as it takes', async () => {
		const body = crypto.randomBytes(2 * MiB);
		server = await startServer((socket, req, index) => {
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 0 ? MiB : undefined, headers: RESUMABLE });
		});
		const { data, error } = await consume(await request.stream({ url: server.url, resume: { maxAttempts: Infinity } }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(body));
		expect(server.heads).toHaveLength(2);
	});

	it('balena-sdk os.download-style: piped to a file with progress, across a cut', async () => {
		const body = crypto.randomBytes(8 * MiB);
		server = await startServer((socket, req, index) => {
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 0 ? 3 * MiB + 1 : undefined, headers: RESUMABLE });
		});
		const { origin } = new URL(server.url);
		const stream = await request.stream({
			method: 'GET',
			url: '/download',
			qs: { deviceType: 'raspberrypi3', version: '6.0.0' },
			baseUrl: origin,
		});
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-resume-'));
		try {
			const file = path.join(dir, 'os.img');
			const percentages = [];
			stream.on('progress', (event) => percentages.push(event.percentage));
			await new Promise((resolve, reject) => {
				const out = fs.createWriteStream(file);
				stream.on('error', reject);
				out.on('error', reject);
				out.on('finish', resolve);
				stream.pipe(out);
			});
			expect(sha256(fs.readFileSync(file))).toBe(sha256(body));
			expect(percentages[percentages.length - 1]).toBe(100);
			expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
			expect(server.heads.map((h) => h.line)).toEqual([
				'GET /download?deviceType=raspberrypi3&version=6.0.0 HTTP/1.1',
				'GET /download?deviceType=raspberrypi3&version=6.0.0 HTTP/1.1',
			]);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	it('resumes from the URL a redirect led to', async () => {
		const body = crypto.randomBytes(2 * MiB);
		server = await startServer((socket, req, index) => {
			if (req.line.startsWith('GET /start ')) {
				socket.end(head(302, { Location: '/image.img', 'Content-Length': 0 }));
				return;
			}
			serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: index === 1 ? MiB : undefined, headers: RESUMABLE });
		});
		const { data, error } = await consume(await request.stream({ url: server.url.replace('/image.img', '/start') }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(body));
		expect(server.heads.map((h) => `${h.line} ${h.headers.range}`)).toEqual([
			'GET /start HTTP/1.1 undefined',
			'GET /image.img HTTP/1.1 undefined',
			`GET /image.img HTTP/1.1 bytes=${MiB}-`,
		]);
	});
});

describe('a continuation that is not the rest of the same bytes ends the stream', () => {
	const body = crypto.randomBytes(4 * MiB);
	const cut = MiB + 5;

	/** The first answer is cut at `cut`; the second is `second(socket, start)`. */
	async function cutThen(second, options = {}) {
		server = await startServer((socket, req, index) => {
			if (index === 0) serve(socket, body, { cutAt: cut, headers: RESUMABLE });
			else second(socket, rangeStart(req));
		});
		return consume(await request.stream({ url: server.url, ...options }));
	}

	const expectStoppedAtCut = ({ data, error }, reason) => {
		expect(error).toBeInstanceOf(Error);
		expect(error.code).toBe('ERR_BALENA_RESUME_REFUSED');
		expect(error.message).toMatch(new RegExp(`^download from ${server.url} failed: .* \\(after ${cut} bytes\\), and could not resume: `));
		expect(error.message).toMatch(reason);
		// Not a byte more than arrived before the cut, and those were right.
		expect(data.length).toBe(cut);
		expect(data.equals(body.subarray(0, cut))).toBe(true);
		expect(server.heads).toHaveLength(2);
	};

	it('a changed ETag', async () => {
		const result = await cutThen((socket, start) => serve(socket, body, { start, headers: { ...RESUMABLE, ETag: '"img-2"' } }));
		expectStoppedAtCut(result, /could not resume: the file changed \(ETag differs\)/);
	});

	it('a 200 (the whole file again)', async () => {
		const result = await cutThen((socket) => serve(socket, body, { headers: RESUMABLE }));
		expectStoppedAtCut(result, /could not resume: the server answered 200 instead of 206/);
	});

	it('a Content-Range that starts elsewhere', async () => {
		const result = await cutThen((socket, start) => serve(socket, body, { start: start - 10, headers: RESUMABLE }));
		expectStoppedAtCut(result, new RegExp(`could not resume: the server sent bytes from ${cut - 10}, not from ${cut}`));
	});

	it('a Content-Range with another total', async () => {
		const result = await cutThen((socket, start) =>
			socket.end(
				head(206, { ...RESUMABLE, 'Content-Range': `bytes ${start}-${start + 9}/${body.length + 1}`, 'Content-Length': 10 }) +
					'x'.repeat(10),
			),
		);
		expectStoppedAtCut(result, /could not resume: the file is now \d+ bytes long/);
	});

	it('another status (416)', async () => {
		const result = await cutThen((socket) => socket.end(head(416, { 'Content-Range': `bytes */${body.length}`, 'Content-Length': 0 })));
		expectStoppedAtCut(result, /could not resume: the server answered 416/);
	});
});

describe('when it does not resume, a cut is the error it was', () => {
	const body = crypto.randomBytes(2 * MiB);
	const cut = 512 * KiB;

	async function cutOnce(headers, options = {}) {
		server = await startServer((socket, req) => serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: cut, headers }));
		const result = await consume(await request.stream({ url: server.url, ...options }));
		// Give a resume that should not happen the time to show up.
		await new Promise((resolve) => setTimeout(resolve, 700));
		return result;
	}

	const expectPrematureClose = ({ data, error }) => {
		expect(error).toMatchObject({ message: 'Premature close', code: 'ERR_STREAM_PREMATURE_CLOSE' });
		expect(data.length).toBe(cut);
		expect(server.heads).toHaveLength(1);
	};

	it('a weak ETag and no Last-Modified', async () => {
		expectPrematureClose(await cutOnce({ 'Accept-Ranges': 'bytes', ETag: 'W/"weak"' }));
	});

	it('no Accept-Ranges', async () => {
		expectPrematureClose(await cutOnce({ ETag: '"strong"' }));
	});

	it('resume: false', async () => {
		expectPrematureClose(await cutOnce(RESUMABLE, { resume: false }));
	});

	it('resume: { maxAttempts: 0 }', async () => {
		expectPrematureClose(await cutOnce(RESUMABLE, { resume: { maxAttempts: 0 } }));
	});

	it('idleTimeout without resume: the stall is an ETIMEDOUT error', async () => {
		server = await startServer((socket) => serve(socket, body, { cutAt: cut, end: 'stall', headers: RESUMABLE }));
		const started = Date.now();
		const { data, error } = await consume(await request.stream({ url: server.url, idleTimeout: 200, resume: false }));
		expect(Date.now() - started).toBeLessThan(5000);
		expect(error).toMatchObject({ code: 'ETIMEDOUT', message: `download from ${server.url} failed: no data received for 200 ms` });
		expect(data.length).toBe(cut);
		expect(server.heads).toHaveLength(1);
	});

	it('send() reads a cut body as an error, without asking again', async () => {
		server = await startServer((socket, req) => serve(socket, body, { start: rangeStart(req) ?? 0, cutAt: cut, headers: RESUMABLE }));
		const error = await request.send({ url: server.url, responseFormat: 'blob' }).catch((err) => err);
		expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
		await new Promise((resolve) => setTimeout(resolve, 700));
		expect(server.heads).toHaveLength(1);
	});
});

describe('giving up', () => {
	const body = crypto.randomBytes(2 * MiB);

	it('after maxAttempts failed attempts, with the last network failure', async () => {
		server = await startServer((socket, req, index) => {
			if (index === 0) {
				serve(socket, body, { cutAt: MiB, headers: RESUMABLE });
				// Every re-request now meets a closed port.
				server.stopListening();
			}
		});
		const started = Date.now();
		const { data, error } = await consume(await request.stream({ url: server.url, resume: { maxAttempts: 2 } }));
		const elapsed = Date.now() - started;
		expect(data.length).toBe(MiB);
		const { port } = new URL(server.url);
		expect(error).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', message: `connect ECONNREFUSED 127.0.0.1:${port}` });
		// Two attempts: 0.5 s, then 1 s of backoff.
		expect(elapsed).toBeGreaterThanOrEqual(1400);
		expect(elapsed).toBeLessThan(6000);
		expect(server.heads).toHaveLength(1);
	});

	it('counts only attempts that bring no byte (each resume that delivers starts afresh)', async () => {
		const big = crypto.randomBytes(4 * MiB);
		// Six cuts, more than maxAttempts, each after some progress.
		const cuts = [1, 2, 3, 4, 5, 6].map((n) => Math.floor((n * big.length) / 7));
		server = await startServer((socket, req, index) => {
			serve(socket, big, { start: rangeStart(req) ?? 0, cutAt: cuts[index], headers: RESUMABLE });
		});
		const { data, error } = await consume(await request.stream({ url: server.url, resume: { maxAttempts: 1 } }));
		expect(error).toBeUndefined();
		expect(sha256(data)).toBe(sha256(big));
		expect(server.heads).toHaveLength(7);
	});

	it('an AbortSignal during the backoff stops it at once', async () => {
		const controller = new AbortController();
		server = await startServer((socket, req, index) => {
			if (index > 0) return serve(socket, body, { start: rangeStart(req), headers: RESUMABLE });
			serve(socket, body, { cutAt: MiB, headers: RESUMABLE });
			socket.on('close', () => setTimeout(() => controller.abort(), 100));
		});
		const stream = await request.stream({ url: server.url, signal: controller.signal });
		let abortedAt;
		controller.signal.addEventListener('abort', () => {
			abortedAt = Date.now();
		});
		const { data, error } = await consume(stream);
		expect(Date.now() - abortedAt).toBeLessThan(150);
		expect(error).toMatchObject({ name: 'AbortError', type: 'aborted' });
		expect(data.length).toBe(MiB);
		await new Promise((resolve) => setTimeout(resolve, 800));
		expect(server.heads).toHaveLength(1);
	});

	it('stream.destroy() during the backoff stops it at once', async () => {
		let stream;
		server = await startServer((socket, req, index) => {
			if (index > 0) return serve(socket, body, { start: rangeStart(req), headers: RESUMABLE });
			serve(socket, body, { cutAt: MiB, headers: RESUMABLE });
			socket.on('close', () => setTimeout(() => stream.destroy(), 100));
		});
		stream = await request.stream({ url: server.url });
		const closed = new Promise((resolve) => stream.on('close', resolve));
		stream.resume();
		await closed;
		await new Promise((resolve) => setTimeout(resolve, 800));
		expect(server.heads).toHaveLength(1);
	});
});

describe('options', () => {
	it.each([
		[{ resume: 'yes' }, 'The resume option must be a boolean or { maxAttempts }, got string'],
		[{ resume: { maxAttempts: '3' } }, 'The resume.maxAttempts option must be a number of 0 or more, got string'],
		[{ resume: { maxAttempts: -1 } }, 'The resume.maxAttempts option must be a number of 0 or more, got number'],
		[{ idleTimeout: '100' }, 'The idleTimeout option must be a number of milliseconds, got string'],
		[{ idleTimeout: -5 }, 'The idleTimeout option must be a number of milliseconds, got number'],
	])('%j is a TypeError before anything is sent', async (options, message) => {
		server = await startServer((socket) => socket.destroy());
		const error = await request.stream({ url: server.url, ...options }).catch((err) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe(message);
		expect(server.heads).toHaveLength(0);
	});
});
