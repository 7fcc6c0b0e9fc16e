'use strict';
// Resuming over HTTP/2, where a body can stop in more ways than on
// HTTP/1.1: a stream reset (with NO_ERROR it ends quietly), a GOAWAY, or
// the connection lost. Run in a child process: the engine reads
// NODE_EXTRA_CA_CERTS (to trust the test CA) from the real environment,
// which jest does not pass on from a test file.
const { execFileSync } = require('child_process');
const path = require('path');
const { makeCertificates } = require('./helpers/certificates');

// The child: an HTTP/2-only server (no HTTP/1.1 fallback) that serves ranges of a 4 MiB body and cuts
// the first answer at 1 MiB + 5 the given way; prints what each download
// gave and the heads the server saw, as JSON.
function child(root, keyPath, certPath) {
	const crypto = require('crypto');
	const fs = require('fs');
	const http2 = require('http2');
	const getRequest = require(root);
	const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = http2.constants;
	const body = crypto.randomBytes(4 * 1024 * 1024);
	const cut = 1024 * 1024 + 5;
	const sha = (data) => crypto.createHash('sha256').update(data).digest('hex');
	let lastSocket;
	const endings = {
		'RST_STREAM(NO_ERROR)': (stream) => stream.close(NGHTTP2_NO_ERROR),
		'RST_STREAM(CANCEL)': (stream) => stream.close(NGHTTP2_CANCEL),
		'GOAWAY, then the connection closes': (stream) => {
			stream.session.goaway(NGHTTP2_NO_ERROR);
			setTimeout(() => stream.session.destroy(), 20);
		},
		'the connection lost': () => lastSocket.destroy(),
	};
	let end;
	let heads;
	const server = http2.createSecureServer({ key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath) });
	server.on('sessionError', () => {});
	server.on('secureConnection', (socket) => {
		lastSocket = socket;
	});
	server.on('stream', (stream, headers) => {
		stream.on('error', () => {});
		heads.push({ range: headers.range, ifRange: headers['if-range'], authorization: headers.authorization });
		const validators = { 'accept-ranges': 'bytes', etag: '"h2-1"', 'content-type': 'application/octet-stream' };
		const range = /^bytes=(\d+)-$/.exec(headers.range ?? '');
		if (range) {
			const start = Number(range[1]);
			stream.respond({
				':status': 206,
				...validators,
				'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
				'content-length': String(body.length - start),
			});
			stream.end(body.subarray(start));
			return;
		}
		stream.respond({ ':status': 200, ...validators, 'content-length': String(body.length) });
		stream.write(body.subarray(0, cut), () => setTimeout(() => end(stream), 20));
	});
	server.listen(0, '127.0.0.1', async () => {
		const url = `https://127.0.0.1:${server.address().port}/image.img`;
		const results = {};
		for (const [name, ending] of Object.entries(endings)) {
			end = ending;
			heads = [];
			const progress = [];
			let outcome;
			try {
				// A fresh instance each time: a lost connection must not be reused.
				const stream = await getRequest({}).stream({ url, headers: { Authorization: 'Bearer h2' } });
				stream.on('progress', (event) => progress.push(event.received));
				const chunks = [];
				for await (const chunk of stream) chunks.push(chunk);
				const data = Buffer.concat(chunks);
				outcome = { ok: true, length: data.length, same: sha(data) === sha(body) };
			} catch (err) {
				outcome = { ok: false, message: err.message };
			}
			const monotonic = progress.every((received, i) => i === 0 || received >= progress[i - 1]);
			results[name] = { outcome, heads, monotonic, last: progress[progress.length - 1] };
		}
		server.close();
		process.stdout.write(`${JSON.stringify({ cut, length: body.length, results })}\n`);
		process.exit(0);
	});
}

let report;
beforeAll(() => {
	const certificates = makeCertificates();
	try {
		const out = execFileSync(
			process.execPath,
			['-e', `(${child})(...process.argv.slice(1))`, path.join(__dirname, '..'), certificates.server.keyPath, certificates.server.certPath],
			{ env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.ca.certPath }, encoding: 'utf8', timeout: 60000 },
		);
		report = JSON.parse(out);
	} finally {
		certificates.remove();
	}
});

it.each(['RST_STREAM(NO_ERROR)', 'RST_STREAM(CANCEL)', 'GOAWAY, then the connection closes', 'the connection lost'])(
	'HTTP/2, %s at 1 MiB: the download resumes and arrives whole',
	(ending) => {
		const { cut, length, results } = report;
		const result = results[ending];
		expect(result.outcome).toEqual({ ok: true, length, same: true });
		// A lost connection may lose bytes in flight: the range starts
		// wherever the client really got to.
		const range = ending === 'the connection lost' ? expect.stringMatching(/^bytes=\d+-$/) : `bytes=${cut}-`;
		expect(result.heads).toEqual([
			{ authorization: 'Bearer h2' },
			{ range, ifRange: '"h2-1"', authorization: 'Bearer h2' },
		]);
		const start = Number(/\d+/.exec(result.heads[1].range));
		expect(start).toBeGreaterThan(0);
		expect(start).toBeLessThanOrEqual(cut);
		expect(result.monotonic).toBe(true);
		expect(result.last).toBe(length);
	},
);
