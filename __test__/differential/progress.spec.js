'use strict';
// stream()'s progress events next to upstream's, for every way a server can
// state a body's length: the last event is the same, and ours never passes
// 100% (a progress bar that says 398% is a bug a user sees).
const zlib = require('zlib');
const crypto = require('crypto');
const { startServer } = require('../helpers/server');
const { bothClients } = require('../helpers/upstream');
const allowed = require('./allowed-differences');

// Incompressible bytes, then zeros: decoded and wire counts part ways.
const data = Buffer.concat([crypto.randomBytes(1 << 20), Buffer.alloc(3 << 20)]);
const gzipped = zlib.gzipSync(data);

/**
 * Sends `body` in writes of `step` bytes, 20 ms apart, so that events fall
 * due mid-body (about one second in all).
 */
const slowly = (body, headers, step = Math.ceil(body.length / 50)) => (req, res) => {
	res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...headers });
	let at = 0;
	const tick = () => {
		if (at >= body.length) {
			res.end();
			return;
		}
		res.write(body.subarray(at, at + step));
		at += step;
		setTimeout(tick, 20);
	};
	tick();
};

let server;
beforeAll(async () => {
	server = await startServer({
		'/plain': slowly(data, { 'Content-Length': data.length }),
		'/gzip-content-length': slowly(gzipped, { 'Content-Encoding': 'gzip', 'Content-Length': gzipped.length }),
		'/gzip-transfer-length': slowly(gzipped, { 'Content-Encoding': 'gzip', 'X-Transfer-Length': gzipped.length }),
		'/no-length': slowly(data, {}),
	});
});
afterAll(() => server.close());

async function progressOf(request, path) {
	const stream = await request.stream({ baseUrl: server.url, url: path });
	const events = [];
	stream.on('progress', (event) => events.push(event && { ...event }));
	let bytes = 0;
	for await (const chunk of stream) bytes += chunk.length;
	// upstream emits its last event after the data ends.
	await new Promise((resolve) => setTimeout(resolve, 20));
	return { bytes, events };
}

async function both(path) {
	const seen = {};
	for (const [name, request] of bothClients()) {
		seen[name] = await progressOf(request, path);
	}
	return seen;
}

const last = (events) => events[events.length - 1];
const shape = (event) => event && { total: event.total, received: event.received, percentage: event.percentage, eta: event.eta };

describe('progress events next to upstream', () => {
	it.each(['/plain', '/gzip-transfer-length'])('%s: the same body and the same last event', async (path) => {
		const seen = await both(path);
		expect(seen.native.bytes).toBe(data.length);
		expect(seen.upstream.bytes).toBe(data.length);
		expect(shape(last(seen.native.events))).toEqual(shape(last(seen.upstream.events)));
		expect(last(seen.native.events).percentage).toBe(100);
		expect(seen.native.events.length).toBeGreaterThan(1);
		for (const event of seen.native.events) {
			expect(event.percentage).toBeLessThanOrEqual(100);
		}
	});

	it('gzip with only Content-Length counts the wire bytes against it and ends at 100', async () => {
		expect(allowed.gzipProgressCountsWireBytes).toBeDefined();
		const seen = await both('/gzip-content-length');
		expect(seen.native.bytes).toBe(data.length);
		const ours = last(seen.native.events);
		const theirs = last(seen.upstream.events);
		expect(ours.total).toBe(gzipped.length);
		expect(ours.total).toBe(theirs.total);
		expect(ours.percentage).toBe(100);
		expect(theirs.percentage).toBe(100);
		// The difference allowed: we count what arrived, never more than the total.
		expect(ours.received).toBe(gzipped.length);
		for (const event of seen.native.events) {
			expect(event.percentage).toBeLessThanOrEqual(100);
			expect(event.received).toBeLessThanOrEqual(event.total);
		}
	});

	it('no length: every event is undefined in both', async () => {
		const seen = await both('/no-length');
		expect(seen.native.bytes).toBe(data.length);
		expect(seen.native.events.length).toBeGreaterThan(0);
		expect(seen.native.events.every((event) => event === undefined)).toBe(true);
		expect(seen.upstream.events.every((event) => event === undefined)).toBe(true);
	});
});
