'use strict';
// TLS trust like Node's: upstream balena-request (Node's OpenSSL) and this
// package against the same https servers, each case in a child process with
// its own NODE_EXTRA_CA_CERTS. What Node accepts we accept; what it refuses
// we refuse, for the same reason.
const http2 = require('http2');
const https = require('https');
const { CertFactory, hasOpenssl } = require('./helpers/certificates');
const { requestInChild } = require('./helpers/env-request');
const allowed = require('./differential/allowed-differences');

let certs;
const servers = [];

/** An https server with `cert` that records what it served. */
async function serve(cert, { h2 = false } = {}) {
	const seen = [];
	const handler = (req, res) => {
		seen.push({ url: req.url, httpVersion: req.httpVersion });
		res.setHeader('content-type', 'application/json');
		res.end(JSON.stringify({ secure: true }));
	};
	const options = { key: cert.keyPem, cert: cert.pem };
	const server = h2
		? http2.createSecureServer({ ...options, allowHTTP1: true }, handler)
		: https.createServer(options, handler);
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	servers.push(server);
	return { url: `https://127.0.0.1:${server.address().port}/{client}`, seen };
}

let caAsServer; // self-signed, CA:TRUE, names 127.0.0.1: the openBalena case
let wrongName; // the same kind, naming only other.test
let expired; // the same kind, expired in 2021
let root; // a CA that signs `leaf`
let otherRoot;
let leaf;

beforeAll(() => {
	if (!hasOpenssl()) {
		throw new Error('these tests need the openssl CLI to make their certificates');
	}
	certs = new CertFactory();
	caAsServer = certs.cert('ca-as-server', { ca: true });
	wrongName = certs.cert('wrong-name', { ca: true, san: 'DNS:other.test' });
	expired = certs.cert('expired', { ca: true, start: '20200101000000Z', end: '20210101000000Z' });
	root = certs.cert('root', { ca: true, san: null });
	otherRoot = certs.cert('other-root', { ca: true, san: null });
	leaf = certs.cert('leaf', { issuer: root });
});

afterAll(async () => {
	await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
	certs?.remove();
});

/** Child environment trusting exactly these certificates. */
const trusting = (...trusted) => ({
	NODE_EXTRA_CA_CERTS: certs.bundle(trusted.map((c) => c.name).join('+'), trusted),
});

function expectBothAccept(results, server) {
	for (const name of ['upstream', 'native']) {
		expect({ name, ...results[name] }).toEqual({ name, ok: true, statusCode: 200, body: { secure: true } });
	}
	expect(server.seen.map((s) => s.url).sort()).toEqual(['/native', '/upstream']);
}

function expectBothRefuse(results, server, nativeReason) {
	expect(results.upstream.ok).toBe(false);
	expect(results.native.ok).toBe(false);
	// fetch's TypeError('fetch failed') in both; the TLS error is its cause.
	expect(results.native.error.message).toBe('fetch failed');
	expect(results.upstream.error.message).toBe('fetch failed');
	expect(JSON.stringify(results.native.error.cause)).toMatch(nativeReason);
	// Nothing got through the handshake.
	expect(server.seen).toEqual([]);
}

describe('a CA certificate used as the server certificate', () => {
	it('is accepted by both when NODE_EXTRA_CA_CERTS trusts that very certificate', async () => {
		const server = await serve(caAsServer);
		expectBothAccept(await requestInChild({ url: server.url, env: trusting(caAsServer) }), server);
	});

	it('is found among several trusted certificates', async () => {
		const server = await serve(caAsServer);
		const env = trusting(root, otherRoot, caAsServer, expired);
		expectBothAccept(await requestInChild({ url: server.url, env }), server);
	});

	it('is refused by both when nothing trusts it', async () => {
		const server = await serve(caAsServer);
		const results = await requestInChild({ url: server.url });
		expectBothRefuse(results, server, /UnknownIssuer|self[- ]signed|SELF_SIGNED/i);
	});

	it('is refused by both when another certificate is trusted', async () => {
		const server = await serve(caAsServer);
		const results = await requestInChild({ url: server.url, env: trusting(otherRoot) });
		expectBothRefuse(results, server, /UnknownIssuer|self[- ]signed|SELF_SIGNED/i);
	});

	it('is refused by both when it does not name the host', async () => {
		const server = await serve(wrongName);
		const results = await requestInChild({ url: server.url, env: trusting(wrongName) });
		expectBothRefuse(results, server, /NotValidForName|not valid for name|ALTNAME/i);
	});

	it('is refused by both when it has expired', async () => {
		const server = await serve(expired);
		const results = await requestInChild({ url: server.url, env: trusting(expired) });
		expectBothRefuse(results, server, /expired/i);
	});
});

describe('a certificate issued by a CA', () => {
	it('is accepted by both when its CA is trusted', async () => {
		const server = await serve(leaf);
		expectBothAccept(await requestInChild({ url: server.url, env: trusting(root) }), server);
	});

	it('is refused by both when its issuer is unknown', async () => {
		const server = await serve(leaf);
		const results = await requestInChild({ url: server.url, env: trusting(otherRoot) });
		expectBothRefuse(results, server, /UnknownIssuer|UNABLE_TO_(GET_ISSUER|VERIFY)|unknown issuer/i);
	});

	it('is refused by both when only the leaf itself is trusted', async () => {
		// OpenSSL without partial chains needs a self-signed anchor; a leaf
		// is not one, and webpki agrees.
		const server = await serve(leaf);
		const results = await requestInChild({ url: server.url, env: trusting(leaf) });
		expectBothRefuse(results, server, /UnknownIssuer|UNABLE_TO_(GET_ISSUER|VERIFY)|unknown issuer/i);
	});
});

describe('HTTP/2 over TLS', () => {
	it('is negotiated with a server that offers it, through our TLS configuration', async () => {
		const server = await serve(caAsServer, { h2: true });
		const results = await requestInChild({ url: server.url, env: trusting(caAsServer) });
		expectBothAccept(results, server);
		const versions = Object.fromEntries(server.seen.map((s) => [s.url, s.httpVersion]));
		// Upstream only speaks HTTP/1.1: the listed difference.
		expect(allowed.http2OverTls).toBeDefined();
		expect(versions).toEqual({ '/native': '2.0', '/upstream': '1.1' });
	});
});
