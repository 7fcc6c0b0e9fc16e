'use strict';
// balena-sdk's two stream users, with this package in place of
// balena-request (jest's moduleNameMapper), against a local API: the device
// log subscription (NDJSON read from the byte stream) and the OS image
// download (gzip, with progress), which now also survives a dropped
// connection.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { tempDir } = require('./helpers/temp-dir');
const zlib = require('zlib');
const { makeJwt } = require('./helpers/auth');

const UUID = '0123456789abcdef0123456789abcdef';
const image = Buffer.concat([crypto.randomBytes(2 << 20), Buffer.alloc(6 << 20)]);
const gzipped = zlib.gzipSync(image);
const logLines = [
	{ message: 'first', timestamp: 1, isSystem: false },
	{ message: 'second: é', timestamp: 2, isSystem: true },
	{ message: 'third', timestamp: 3, isSystem: false },
];

let server;
let apiUrl;
let downloads;
let logConnectionClosed;
beforeAll(async () => {
	server = http.createServer((req, res) => {
		const url = new URL(req.url, 'http://x');
		const json = (body) => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(body));
		};
		if (url.pathname.startsWith('/v7/device_type')) return json({ d: [{ slug: 'raspberrypi4-64' }] });
		if (url.pathname.startsWith('/v7/device')) return json({ d: [{ id: 1, uuid: UUID }] });
		if (url.pathname === `/device/v2/${UUID}/logs`) {
			res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
			// One line split across two writes, as a proxy may deliver it.
			const text = logLines.map((line) => `${JSON.stringify(line)}\n`).join('');
			res.write(text.slice(0, 30));
			setTimeout(() => res.write(text.slice(30)), 50);
			req.on('close', () => {
				logConnectionClosed = true;
			});
			return undefined;
		}
		if (url.pathname === '/download') {
			const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
			const start = range ? Number(range[1]) : 0;
			downloads.push({ query: url.search, range: req.headers.range, ifRange: req.headers['if-range'] });
			const headers = {
				'Content-Type': 'application/octet-stream',
				'Content-Encoding': 'gzip',
				'Accept-Ranges': 'bytes',
				ETag: '"image-1"',
				'Content-Length': gzipped.length - start,
			};
			if (range) {
				res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${gzipped.length - 1}/${gzipped.length}` });
				return res.end(gzipped.subarray(start));
			}
			res.writeHead(200, headers);
			// The first attempt dies half way through.
			res.write(gzipped.subarray(0, gzipped.length >> 1), () => setTimeout(() => res.destroy(), 20));
			return undefined;
		}
		res.writeHead(404);
		res.end();
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	apiUrl = `http://127.0.0.1:${server.address().port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
	downloads = [];
	logConnectionClosed = false;
});

const newSdk = async () => {
	const { getSdk } = require('balena-sdk');
	const dataDirectory = tempDir('brn-sdk-');
	const sdk = getSdk({ apiUrl, dataDirectory });
	await sdk.auth.loginWithToken(makeJwt({ name: 'johndoe' }));
	return sdk;
};

it('logs.subscribe() emits each line and unsubscribe() closes the connection', async () => {
	const sdk = await newSdk();
	const subscription = await sdk.logs.subscribe(UUID);
	const lines = [];
	await new Promise((resolve, reject) => {
		subscription.on('error', reject);
		subscription.on('line', (line) => {
			lines.push(line);
			if (lines.length === logLines.length) resolve();
		});
	});
	expect(lines).toEqual(logLines);
	subscription.unsubscribe();
	const until = Date.now() + 2000;
	while (!logConnectionClosed && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
	expect(logConnectionClosed).toBe(true);
});

it('os.download() streams the image with progress, resuming after a dropped connection', async () => {
	const sdk = await newSdk();
	const stream = await sdk.models.os.download({ deviceType: 'raspberrypi4-64', version: '2.100.0' });
	const events = [];
	stream.on('progress', (event) => events.push(event));
	const file = path.join(tempDir('brn-img-'), 'balena.img');
	await new Promise((resolve, reject) => {
		stream.on('error', reject);
		stream.pipe(fs.createWriteStream(file)).on('finish', resolve).on('error', reject);
	});
	const written = fs.readFileSync(file);
	expect(written.length).toBe(image.length);
	expect(crypto.createHash('sha256').update(written).digest('hex')).toBe(crypto.createHash('sha256').update(image).digest('hex'));
	expect(downloads.map((d) => [d.range, d.ifRange])).toEqual([
		[undefined, undefined],
		[`bytes=${gzipped.length >> 1}-`, '"image-1"'],
	]);
	expect(downloads[0].query).toContain('deviceType=raspberrypi4-64');
	const last = events[events.length - 1];
	expect(last).toMatchObject({ total: gzipped.length, percentage: 100 });
	for (let i = 1; i < events.length; i++) {
		expect(events[i].received).toBeGreaterThanOrEqual(events[i - 1].received);
	}
});
