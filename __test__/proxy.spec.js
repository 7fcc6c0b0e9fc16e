'use strict';
// Proxies from HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and the lower-case
// names), through a real local proxy. The variables are read when the
// client is made, so each case runs in a child process with its own.
// Upstream balena-request ignores them (a deliberate difference, see
// allowed-differences.js `honoursProxyVariables`); each case also runs it,
// to show where its request went.
const https = require('https');
const net = require('net');
const { startServer, json } = require('./helpers/server');
const { startForwardProxy } = require('./helpers/forward-proxy');
const { CertFactory, hasOpenssl } = require('./helpers/certificates');
const { requestInChild } = require('./helpers/env-request');
const allowed = require('./differential/allowed-differences');

let target; // http
let secureTarget; // https, a self-signed CA certificate trusted by the child
let secureSeen;
let certs;
let trustEnv;
const proxies = [];

const proxy = async (options) => {
	const started = await startForwardProxy(options);
	proxies.push(started);
	return started;
};

/** A port nothing listens on. */
async function deadPort() {
	const server = net.createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
}

beforeAll(async () => {
	if (!hasOpenssl()) {
		throw new Error('these tests need the openssl CLI to make their certificates');
	}
	target = await startServer({ '*': json(200, { direct: 'http' }) });
	certs = new CertFactory();
	const cert = certs.cert('proxy-target', { ca: true });
	trustEnv = { NODE_EXTRA_CA_CERTS: certs.bundle('proxy-target', [cert]) };
	secureSeen = [];
	secureTarget = https.createServer({ key: cert.keyPem, cert: cert.pem }, (req, res) => {
		secureSeen.push(req.url);
		res.setHeader('content-type', 'application/json');
		res.end(JSON.stringify({ direct: 'https' }));
	});
	await new Promise((resolve) => secureTarget.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
	await Promise.all(proxies.map((p) => p.close()));
	await target?.close();
	await new Promise((resolve) => (secureTarget ? secureTarget.close(resolve) : resolve()));
	certs?.remove();
});

let caseId = 0;
/** A fresh path per case, so that what each server saw can be told apart. */
function paths() {
	caseId += 1;
	const http = `http://127.0.0.1:${new URL(target.url).port}/case${caseId}/{client}`;
	const secure = `https://127.0.0.1:${secureTarget.address().port}/case${caseId}/{client}`;
	const at = (client) => `/case${caseId}/${client}`;
	return { http, secure, at, hostPort: `127.0.0.1:${secureTarget.address().port}` };
}
const targetSaw = (path) => target.requests.some((r) => r.url === path);
const secureSaw = (path) => secureSeen.includes(path);

describe('an http target', () => {
	it('goes through HTTP_PROXY in absolute form; upstream goes direct', async () => {
		const p = await proxy();
		const c = paths();
		const results = await requestInChild({ url: c.http, env: { HTTP_PROXY: p.url } });
		expect(results.native).toEqual({ ok: true, statusCode: 200, body: { direct: 'http' } });
		expect(results.upstream).toEqual({ ok: true, statusCode: 200, body: { direct: 'http' } });
		// Only ours went through the proxy: the listed difference.
		expect(allowed.honoursProxyVariables).toBeDefined();
		expect(p.seen.map((s) => s.line)).toEqual([`GET ${c.http.replace('{client}', 'native')}`]);
		expect(targetSaw(c.at('native'))).toBe(true);
		expect(targetSaw(c.at('upstream'))).toBe(true);
	});

	it('goes through http_proxy (lower case)', async () => {
		const p = await proxy();
		const c = paths();
		const results = await requestInChild({ clients: ['native'], url: c.http, env: { http_proxy: p.url } });
		expect(results.native.ok).toBe(true);
		expect(p.seen.map((s) => s.line)).toEqual([`GET ${c.http.replace('{client}', 'native')}`]);
	});

	it('does not use HTTPS_PROXY', async () => {
		const p = await proxy();
		const c = paths();
		const results = await requestInChild({ clients: ['native'], url: c.http, env: { HTTPS_PROXY: p.url } });
		expect(results.native.ok).toBe(true);
		expect(p.seen).toEqual([]);
		expect(targetSaw(c.at('native'))).toBe(true);
	});
});

describe('an https target', () => {
	it('is tunnelled with CONNECT through HTTPS_PROXY; upstream goes direct', async () => {
		const p = await proxy();
		const c = paths();
		const results = await requestInChild({ url: c.secure, env: { HTTPS_PROXY: p.url, ...trustEnv } });
		expect(results.native).toEqual({ ok: true, statusCode: 200, body: { direct: 'https' } });
		expect(results.upstream).toEqual({ ok: true, statusCode: 200, body: { direct: 'https' } });
		expect(p.seen.map((s) => s.line)).toEqual([`CONNECT ${c.hostPort}`]);
		expect(secureSaw(c.at('native'))).toBe(true);
		expect(secureSaw(c.at('upstream'))).toBe(true);
	});

	it('is tunnelled through https_proxy (lower case)', async () => {
		const p = await proxy();
		const c = paths();
		const env = { https_proxy: p.url, ...trustEnv };
		const results = await requestInChild({ clients: ['native'], url: c.secure, env });
		expect(results.native.ok).toBe(true);
		expect(p.seen.map((s) => s.line)).toEqual([`CONNECT ${c.hostPort}`]);
	});
});

describe('NO_PROXY', () => {
	const cases = [
		['NO_PROXY', '127.0.0.1'],
		['no_proxy', '127.0.0.1'],
		['NO_PROXY', 'example.test, 127.0.0.0/8'],
		['NO_PROXY', '*'],
		['no_proxy', '*'],
	];
	it.each(cases)('%s=%s sends both schemes direct', async (name, value) => {
		const p = await proxy();
		const c = paths();
		const env = { HTTP_PROXY: p.url, HTTPS_PROXY: p.url, [name]: value, ...trustEnv };
		const plain = await requestInChild({ clients: ['native'], url: c.http, env });
		const secure = await requestInChild({ clients: ['native'], url: c.secure, env });
		expect(plain.native.ok).toBe(true);
		expect(secure.native.ok).toBe(true);
		expect(p.seen).toEqual([]);
		expect(targetSaw(c.at('native'))).toBe(true);
		expect(secureSaw(c.at('native'))).toBe(true);
	});

	it('leaves hosts it does not list to the proxy', async () => {
		const p = await proxy();
		const c = paths();
		const env = { HTTP_PROXY: p.url, NO_PROXY: '127.0.0.2,10.0.0.0/8,api.example.test' };
		const results = await requestInChild({ clients: ['native'], url: c.http, env });
		expect(results.native.ok).toBe(true);
		expect(p.seen).toHaveLength(1);
	});
});

describe('proxy credentials', () => {
	it('are sent to the proxy for both schemes', async () => {
		const p = await proxy({ auth: 'me:p@ss' });
		const c = paths();
		const proxyUrl = `http://me:p%40ss@127.0.0.1:${p.port}`;
		const env = { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ...trustEnv };
		const plain = await requestInChild({ clients: ['native'], url: c.http, env });
		const secure = await requestInChild({ clients: ['native'], url: c.secure, env });
		expect(plain.native.ok).toBe(true);
		expect(secure.native.ok).toBe(true);
		const basic = `Basic ${Buffer.from('me:p@ss').toString('base64')}`;
		expect(p.seen.map((s) => [s.kind, s.auth])).toEqual([
			['forward', basic],
			['connect', basic],
		]);
	});
});

describe('a proxy that fails', () => {
	const reasonNamingProxy = (port) => new RegExp(`\\(proxy http://127\\.0\\.0\\.1:${port}\\)$`);
	// send() fails with fetch's TypeError('fetch failed'): the reason is its cause.
	const reasonOf = (error) => (error.cause ?? error).message;

	it('refusing the connection is reported as the proxy, without its credentials', async () => {
		const port = await deadPort();
		const c = paths();
		const proxyUrl = `http://me:s3cret@127.0.0.1:${port}`;
		const env = { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ...trustEnv };
		for (const url of [c.http, c.secure]) {
			for (const mode of ['send', 'stream']) {
				const { native } = await requestInChild({ clients: ['native'], url, env, mode });
				expect(native.ok).toBe(false);
				expect(reasonOf(native.error)).toMatch(/refused/i);
				expect(reasonOf(native.error)).toMatch(reasonNamingProxy(port));
				expect(JSON.stringify(native.error)).not.toMatch(/s3cret|me:/);
			}
		}
		expect(targetSaw(c.at('native'))).toBe(false);
		expect(secureSaw(c.at('native'))).toBe(false);
	});

	it('answering CONNECT with a non-2xx status is reported as the proxy', async () => {
		for (const status of [403, 407, 502]) {
			const p = await proxy({ connectStatus: status });
			const c = paths();
			const env = { HTTPS_PROXY: p.url, ...trustEnv };
			const { native } = await requestInChild({ clients: ['native'], url: c.secure, env });
			expect(native.ok).toBe(false);
			expect(reasonOf(native.error)).toMatch(reasonNamingProxy(p.port));
			expect(p.seen.map((s) => s.line)).toEqual([`CONNECT ${c.hostPort}`]);
			expect(secureSaw(c.at('native'))).toBe(false);
		}
	});

	it('resetting the connection is reported as the proxy', async () => {
		const p = await proxy({ reset: true });
		const c = paths();
		const env = { HTTP_PROXY: p.url, HTTPS_PROXY: p.url, ...trustEnv };
		for (const url of [c.http, c.secure]) {
			const { native } = await requestInChild({ clients: ['native'], url, env });
			expect(native.ok).toBe(false);
			expect(reasonOf(native.error)).toMatch(reasonNamingProxy(p.port));
		}
		expect(p.seen.map((s) => s.kind)).toEqual(['forward', 'connect']);
	});

	it('is not involved when the proxy works and the target refuses', async () => {
		// A proxy that answers 502 for a dead target is an HTTP response for
		// http targets, and a refused tunnel for https ones.
		const p = await proxy();
		const port = await deadPort();
		const { native } = await requestInChild({
			clients: ['native'],
			url: `http://127.0.0.1:${port}/x`,
			env: { HTTP_PROXY: p.url },
		});
		expect(native).toMatchObject({ ok: false, error: { statusCode: 502 } });
	});
});
