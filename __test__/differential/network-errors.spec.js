'use strict';
// Network failures through upstream balena-request 14.2.3 and this package
// against the same local server: what each caller observes (class, name,
// message, code, errno, syscall, type, own keys, cause...) must be the same,
// up to the differences listed in allowed-differences.js. TLS cases that
// trust a test CA run in a child process (NODE_EXTRA_CA_CERTS is read at
// startup), and so does the DNS case, with its own resolv.conf pointing at a
// DNS server of the test's own: no query leaves the machine.
const http = require('http');
const https = require('https');
const net = require('net');
const path = require('path');
const allowed = require('./allowed-differences');
const { observe, observeBoth } = require('./network-errors.observe');
const { upstream, native } = require('../helpers/upstream');
const { startRawServer } = require('../helpers/raw-server');
const { makeCertificates } = require('../helpers/certificates');
const { startNxdomainServer } = require('../helpers/dns-server');
const { runNodeJson, namespaceUnavailable } = require('../helpers/namespaced-node');

jest.setTimeout(60000);

const CHILD = path.join(__dirname, 'network-errors.child.js');

/** Both observations as JSON, with the listed differences normalised away. */
function expectSame(result, differences = []) {
	for (const id of differences) {
		expect(allowed[id]).toBeDefined();
	}
	const normalize = (value) =>
		differences.reduce((json, id) => (allowed[id].normalize ? allowed[id].normalize(json) : json), JSON.stringify(value));
	for (const mode of Object.keys(result.upstream)) {
		// Something failed: a scenario that does not fail tests nothing.
		expect(result.upstream[mode].phase).not.toBe('ok');
		expect(JSON.parse(normalize(result.native[mode]))).toEqual(JSON.parse(normalize(result.upstream[mode])));
	}
}

const closedPort = async () => {
	const server = net.createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
};

describe('connection failures', () => {
	it('connection refused', async () => {
		const port = await closedPort();
		const result = await observeBoth(`http://127.0.0.1:${port}/x`);
		expectSame(result);
		expect(result.native.send.error.cause).toMatchObject({ message: `connect ECONNREFUSED 127.0.0.1:${port}`, errno: -111, syscall: 'connect', address: '127.0.0.1', port });
		expect(result.native.stream.error).toMatchObject({ class: 'FetchError', code: 'ECONNREFUSED', errno: 'ECONNREFUSED', type: 'system' });
	});

	it.each([
		['closed (FIN) before the response head', (socket) => socket.destroy(), 'SocketError'],
		['reset (RST) before the response head', (socket) => socket.resetAndDestroy(), 'Error'],
	])('%s', async (name, behave, causeClass) => {
		const server = await startRawServer(behave);
		const result = await observeBoth(`${server.url}/x`);
		await server.close();
		expectSame(result);
		expect(result.native.send.error.cause.class).toBe(causeClass);
	});

	it('reset (RST) mid-body', async () => {
		const server = await startRawServer((socket) => {
			socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(5000)}`);
			setTimeout(() => socket.resetAndDestroy(), 50);
		});
		const result = await observeBoth(`${server.url}/x`);
		await server.close();
		expectSame(result, ['sendBodyFailureRequestOptions']);
		expect(result.native.send.error).toMatchObject({ class: 'TypeError', message: 'terminated', cause: { message: 'read ECONNRESET', errno: -104 } });
		expect(result.native.stream).toMatchObject({ phase: 'body', error: { message: 'read ECONNRESET', code: 'ECONNRESET', syscall: 'read' } });
	});

	it('closed (FIN) mid-body, chunked', async () => {
		const server = await startRawServer((socket) => {
			socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
			setTimeout(() => socket.destroy(), 50);
		});
		const result = await observeBoth(`${server.url}/x`);
		await server.close();
		expectSame(result, ['sendBodyFailureRequestOptions']);
		expect(result.native.stream).toMatchObject({ phase: 'body', error: { message: 'Premature close', code: 'ERR_STREAM_PREMATURE_CLOSE' } });
	});

	it('closed (FIN) mid-body with a Content-Length: send() as upstream, stream() fails where upstream hangs', async () => {
		const server = await startRawServer((socket) => {
			socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(5000)}`);
			setTimeout(() => socket.destroy(), 50);
		});
		const url = `${server.url}/x`;
		expectSame(await observeBoth(url, undefined, ['send']), ['sendBodyFailureRequestOptions']);
		expect(allowed.streamCleanCloseWithLength).toBeDefined();
		const hangs = await observe(upstream.getRequest({}), 'stream', url, undefined, 1500);
		expect(hangs.hang).toBeDefined();
		const ours = await observe(native.getRequest({}), 'stream', url);
		await server.close();
		expect(ours).toEqual({ phase: 'body', error: { class: 'Error', name: 'Error', message: 'Premature close', code: 'ERR_STREAM_PREMATURE_CLOSE', keys: ['code'] } });
	});
});

describe('timeout and abort', () => {
	let silent;
	let stalled;
	beforeAll(async () => {
		silent = await startRawServer(() => {});
		stalled = await startRawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc'));
	});
	afterAll(async () => {
		await silent.close();
		await stalled.close();
	});

	it("send()'s timeout", async () => {
		expectSame(await observeBoth(`${silent.url}/x`, () => ({ timeout: 200 }), ['send']));
	});

	it('a signal aborted before the call', async () => {
		const aborted = () => {
			const controller = new AbortController();
			controller.abort();
			return { signal: controller.signal };
		};
		const result = await observeBoth(`${silent.url}/x`, aborted);
		expectSame(result);
		expect(result.native.stream.error).toMatchObject({ class: 'AbortError', name: 'AbortError', message: 'The user aborted a request.', type: 'aborted' });
	});

	it('a signal aborted while waiting for the head, with and without a reason', async () => {
		for (const reason of [undefined, new Error('mine')]) {
			const abortLater = () => {
				const controller = new AbortController();
				setTimeout(() => controller.abort(reason), 100);
				return { signal: controller.signal };
			};
			expectSame(await observeBoth(`${silent.url}/x`, abortLater));
		}
	});

	it('a signal aborted while a body is read', async () => {
		const abortLater = () => {
			const controller = new AbortController();
			setTimeout(() => controller.abort(), 100);
			return { signal: controller.signal };
		};
		const result = await observeBoth(`${stalled.url}/x`, abortLater);
		expectSame(result);
		expect(result.native.stream.phase).toBe('body');
	});
});

describe('TLS', () => {
	let certificates;
	const servers = [];
	const serve = async (cert) => {
		const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => res.end('ok'));
		await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		servers.push(server);
		return `https://127.0.0.1:${server.address().port}/x`;
	};
	beforeAll(() => {
		certificates = makeCertificates();
	});
	afterAll(async () => {
		await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
		certificates.remove();
	});
	const trustingTheCa = () => ({ env: { NODE_EXTRA_CA_CERTS: certificates.ca.certPath } });

	it('a certificate signed by a CA the client does not trust', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.server)]);
		expectSame(result);
		expect(result.native.send.error.cause.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
	});

	it('a self-signed leaf certificate', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.selfSigned)]);
		expectSame(result);
		expect(result.native.send.error.cause).toMatchObject({ message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
	});

	it('a certificate sent with its own root, which the client does not trust', async () => {
		const chain = { key: certificates.server.key, cert: certificates.server.cert + certificates.ca.cert };
		const result = await runNodeJson(CHILD, [await serve(chain)]);
		expectSame(result);
		expect(result.native.send.error.cause).toMatchObject({
			message: 'self-signed certificate in certificate chain',
			code: 'SELF_SIGNED_CERT_IN_CHAIN',
		});
	});

	it('a self-signed CA certificate as the server certificate', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.selfSignedCa)]);
		expectSame(result);
		expect(result.native.send.error.cause).toMatchObject({ message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
	});

	it('a certificate for another host name (trusted CA)', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.otherName)], trustingTheCa());
		expectSame(result, ['tlsAltnameCert']);
		expect(result.native.send.error.cause).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', host: '127.0.0.1' });
	});

	it('an expired certificate (trusted CA)', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.expired)], trustingTheCa());
		expectSame(result);
		expect(result.native.stream.error.code).toBe('CERT_HAS_EXPIRED');
	});

	it('the valid certificate works through both, so the failures above are the certificates', async () => {
		const result = await runNodeJson(CHILD, [await serve(certificates.server)], trustingTheCa());
		expect(result.upstream).toEqual({ send: { phase: 'ok' }, stream: { phase: 'ok' } });
		expect(result.native).toEqual(result.upstream);
	});

	it('https to a plain-http port', async () => {
		const plain = http.createServer((req, res) => res.end('ok'));
		await new Promise((resolve) => plain.listen(0, '127.0.0.1', resolve));
		const result = await runNodeJson(CHILD, [`https://127.0.0.1:${plain.address().port}/x`]);
		await new Promise((resolve) => plain.close(resolve));
		expectSame(result, ['opensslErrorText']);
		expect(result.native.send.error.cause.code).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
	});
});

describe('DNS', () => {
	it('a name that does not resolve (queries go only to a local DNS server)', async () => {
		const unavailable = namespaceUnavailable();
		if (unavailable !== null) {
			throw new Error(unavailable);
		}
		const dns = await startNxdomainServer();
		let result;
		try {
			result = await runNodeJson(CHILD, ['http://no-such-host.test/x'], { localDns: true });
		} finally {
			await dns.close();
		}
		expectSame(result);
		expect(result.native.send.error.cause).toMatchObject({ message: 'getaddrinfo ENOTFOUND no-such-host.test', code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: 'no-such-host.test' });
		// Both clients asked, and asked our server.
		expect(dns.queries.filter((name) => name === 'no-such-host.test').length).toBeGreaterThanOrEqual(4);
	});
});
