#!/usr/bin/env node
'use strict';
// A demo that needs no network: a small balena-API look-alike runs in this
// process on 127.0.0.1, and balena-request-native talks to it with auth,
// token refresh, an interceptor, an OData query and a streamed download.
const http = require('http');
const os = require('os');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const BalenaAuth = require('balena-auth').default;
const getRequest = require('..');

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (name, ageSeconds) => {
	const now = Math.floor(Date.now() / 1000);
	return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ username: name, iat: now - ageSeconds, exp: now + 3600 })}.c2ln`;
};

// 4 MiB that compress to about 1 MiB, like a real image does not quite.
const image = Buffer.concat([require('crypto').randomBytes(1024 * 1024), Buffer.alloc(3 * 1024 * 1024, 'balenaOS ')]);
const imageGz = zlib.gzipSync(image);

function api(req, res) {
	const url = new URL(req.url, 'http://localhost');
	const bearer = req.headers.authorization?.split('.')[1];
	const who = bearer ? JSON.parse(Buffer.from(bearer, 'base64url')).username : '-';
	const log = `${req.method} ${req.url}  token of=${who}  client=${req.headers['x-balena-client'] ?? '-'}`;
	console.log(`  server got: ${log}`);
	if (url.pathname === '/user/v1/refresh-token') {
		res.end(jwt('demo-user-refreshed', 0));
	} else if (url.pathname === '/v7/device') {
		res.setHeader('Content-Type', 'application/json');
		res.end(JSON.stringify({ d: [{ id: 1, device_name: 'a b' }] }));
	} else if (url.pathname === '/v7/missing') {
		res.writeHead(404, { 'Content-Type': 'application/json' });
		res.end(JSON.stringify({ error: { text: 'No such resource' } }));
	} else if (url.pathname === '/download') {
		res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip', 'X-Transfer-Length': String(imageGz.length) });
		// Send in slices, slowly enough to see progress.
		let offset = 0;
		const timer = setInterval(() => {
			res.write(imageGz.subarray(offset, offset + 64 * 1024));
			offset += 64 * 1024;
			if (offset >= imageGz.length) {
				clearInterval(timer);
				res.end();
			}
		}, 100);
	} else {
		res.writeHead(404);
		res.end();
	}
}

async function main() {
	const server = http.createServer(api);
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const baseUrl = `http://127.0.0.1:${server.address().port}`;

	const auth = new BalenaAuth({ dataDirectory: fs.mkdtempSync(path.join(os.tmpdir(), 'brn-demo-')), tokenKey: 'token' });
	// A token issued two days ago: the first request refreshes it.
	await auth.setKey(jwt('demo-user', 2 * 24 * 3600));
	const request = getRequest({ auth });
	request.interceptors.push({
		request(options) {
			options.headers['X-Balena-Client'] = 'balena-request-native-demo';
			return options;
		},
	});

	console.log('1. send() with auth, a token older than a day (refreshed first) and an interceptor:');
	const response = await request.send({ baseUrl, url: "/v7/device?$filter=device_name eq 'a b'&$select=id" });
	console.log(`  -> ${response.statusCode}`, JSON.stringify(response.body), `(${response.duration} ms)`);
	const user = JSON.parse(Buffer.from((await auth.getKey()).split('.')[1], 'base64url')).username;
	console.log(`  the saved token is now the refreshed one, for ${user}`);

	console.log('2. send() with an apiKey, sendToken: false:');
	await request.send({ baseUrl, url: '/v7/device?$select=id', apiKey: 'DEMOKEY', sendToken: false });

	console.log('3. an error status becomes a BalenaRequestError:');
	try {
		await request.send({ baseUrl, url: '/v7/missing' });
	} catch (err) {
		console.log(`  -> ${err.name}: ${err.message} (statusCode ${err.statusCode})`);
	}

	console.log('4. stream() of a gzip image with X-Transfer-Length, with progress:');
	const stream = await request.stream({ baseUrl, url: '/download' });
	let events = 0;
	stream.on('progress', (p) => {
		events++;
		if (p) console.log(`  progress ${p.percentage.toFixed(1)}%  ${p.received}/${p.total} bytes  eta ${p.eta}s`);
	});
	let length = 0;
	for await (const chunk of stream) length += chunk.length;
	console.log(`  -> mime ${stream.mime}, ${length} bytes decompressed (${length === image.length ? 'intact' : 'MISMATCH'}), ${events} progress events`);

	server.close();
	if (length !== image.length) process.exit(1);
	console.log('demo done');
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
