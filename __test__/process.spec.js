'use strict';
// Process health: the addon never keeps Node alive, survives process.exit()
// mid-download and worker threads; TLS verification is always on.
const { execFile, execFileSync } = require('child_process');
const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');
const { tempDir } = require('./helpers/temp-dir');
const { startServer } = require('./helpers/server');

const script = path.join(__dirname, 'fixtures', 'client-script.js');
const runChild = (args, env = {}) =>
	new Promise((resolve) => {
		const started = Date.now();
		execFile(process.execPath, [script, ...args], { env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) => {
			resolve({ code: err ? err.code : 0, signal: err ? err.signal : null, stdout, stderr, ms: Date.now() - started });
		});
	});

let server;
beforeAll(async () => {
	server = await startServer({
		'/endless': (req, res) => {
			res.writeHead(200, { 'Content-Length': String(1 << 30) });
			const chunk = Buffer.alloc(64 * 1024);
			const pump = () => {
				while (!res.destroyed && res.write(chunk));
			};
			res.on('drain', pump);
			pump();
		},
		'/stall': () => {},
	});
});
afterAll(() => server.close());

it('a script that made requests and streams exits by itself', async () => {
	const result = await runChild(['exits-by-itself', server.url]);
	expect(result.stderr).toBe('');
	expect(result.stdout.trim()).toBe('done 200');
	expect(result.code).toBe(0);
	expect(result.ms).toBeLessThan(10000);
});

it('process.exit() in the middle of a download exits cleanly', async () => {
	const result = await runChild(['exit-mid-download', server.url]);
	expect(result.stdout.trim()).toBe('exiting');
	expect(result.signal).toBeNull();
	expect(result.code).toBe(0);
});

it('works in two worker threads and the main thread, and survives a worker terminated mid-request', async () => {
	const result = await runChild(['workers', server.url]);
	expect(result.stderr).toBe('');
	expect(result.stdout.trim()).toBe('workers true,true main 20 after 200');
	expect(result.code).toBe(0);
});

describe('TLS', () => {
	let tls;
	let dir;
	beforeAll(async () => {
		dir = tempDir('brn-tls-');
		// A CA and a server certificate it signed, as openBalena or a company
		// proxy has them.
		const file = (name) => path.join(dir, name);
		const openssl = (...args) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
		openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
		openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('key.pem'), '-out', file('server.csr'));
		fs.writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
		openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('cert.pem'));
		tls = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => res.end('secure'));
		await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve));
	});
	afterAll(() => new Promise((resolve) => tls.close(resolve)));

	it('rejects a self-signed server', async () => {
		const result = await runChild(['tls', `https://127.0.0.1:${tls.address().port}`], { NODE_EXTRA_CA_CERTS: '' });
		// Node's fetch says 'fetch failed' (the certificate error is its cause).
		expect(result.stdout).toMatch(/^rejected fetch failed/);
	});

	it('accepts it when its CA is given through NODE_EXTRA_CA_CERTS', async () => {
		const result = await runChild(['tls', `https://127.0.0.1:${tls.address().port}`], { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') });
		expect(result.stdout.trim()).toBe('ok 200');
	});
});
