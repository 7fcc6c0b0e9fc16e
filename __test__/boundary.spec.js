'use strict';
// The batched boundary (lib/dispatch.js, lib/boundary.js, src/js/engine.rs):
// every record name JS uses exists in the addon's layout, calls started in
// one tick settle together and each with its own result, a call cancelled
// before it was handed over is cancelled, and the process does not stay
// alive for an idle request object but does for a call under way.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { execFileSync } = require('child_process');
const { layout, CALL_INIT, WIRE, SETTLED } = require('../lib/boundary');
const { getRequest } = require('..');

const root = path.join(__dirname, '..');
const RECORDS = { CALL_INIT: 'callInit', WIRE: 'wire', PATCH: 'patch', RESPONSE: 'response', SETTLED: 'settled' };

describe('boundary records', () => {
	test('every `RECORD.name` in the JS sources is a field of that record', () => {
		const files = ['index.js', ...fs.readdirSync(path.join(root, 'lib')).map((f) => path.join('lib', f))];
		const used = [];
		for (const file of files.filter((f) => f.endsWith('.js'))) {
			const text = fs.readFileSync(path.join(root, file), 'utf8');
			for (const [, record, name] of text.matchAll(/\b(CALL_INIT|WIRE|PATCH|RESPONSE|SETTLED)\.(\w+)/g)) {
				used.push(`${file}: ${record}.${name}`);
				if (name !== 'length') {
					expect({ file, record, name, known: layout[RECORDS[record]].includes(name) }).toEqual({ file, record, name, known: true });
				}
			}
		}
		// The test reads real uses (it cannot pass on an empty scan).
		expect(used.length).toBeGreaterThan(40);
	});

	test('records have the lengths the addon reads', () => {
		expect(WIRE.length).toBe(layout.wire.length);
		expect(CALL_INIT.wire).toBe(layout.callInit.indexOf('wire'));
		expect(SETTLED.kind).toBe(0);
	});
});

describe('batched calls', () => {
	let server;
	let base;
	const seen = [];
	beforeAll(async () => {
		server = http.createServer((req, res) => {
			seen.push(req.url);
			const n = Number(new URL(req.url, 'http://x').searchParams.get('n'));
			// Answer in reverse order of arrival: later calls finish first.
			setTimeout(() => {
				res.setHeader('content-type', 'application/json');
				res.end(JSON.stringify({ n }));
			}, 50 - n);
		});
		await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		base = `http://127.0.0.1:${server.address().port}`;
	});
	afterAll(() => new Promise((resolve) => server.close(resolve)));

	test('calls started in one tick each settle with their own response', async () => {
		const request = getRequest({});
		const results = await Promise.all(
			Array.from({ length: 40 }, (_, n) => request.send({ baseUrl: base, url: `/?n=${n}` }).then((r) => r.body.n)),
		);
		expect(results).toEqual(Array.from({ length: 40 }, (_, n) => n));
	});

	test('a call aborted in the tick it started never reaches the server', async () => {
		const request = getRequest({});
		seen.length = 0;
		const controller = new AbortController();
		const aborted = request.send({ baseUrl: base, url: '/?n=1&aborted', signal: controller.signal });
		const other = request.send({ baseUrl: base, url: '/?n=2' });
		controller.abort();
		await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
		await expect(other).resolves.toMatchObject({ body: { n: 2 } });
		expect(seen).toEqual(['/?n=2']);
	});

	test('an idle request object lets node exit; a call under way keeps it running', () => {
		const script = `
			const { getRequest } = require(${JSON.stringify(root)});
			const request = getRequest({});
			const http = require('http');
			const server = http.createServer((req, res) => setTimeout(() => res.end('late'), 300));
			server.listen(0, '127.0.0.1', () => {
				const url = 'http://127.0.0.1:' + server.address().port + '/';
				server.unref();
				request.send({ url, json: false }).then((r) => console.log('settled', r.body));
			});`;
		const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
		expect(out.trim()).toBe('settled late');
		const idle = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(root)}).getRequest({}); console.log('done')`], {
			encoding: 'utf8',
			timeout: 20000,
		});
		expect(idle.trim()).toBe('done');
	});
});
