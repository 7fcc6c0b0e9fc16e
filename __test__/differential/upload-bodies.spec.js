'use strict';
// Streamed request bodies next to balena-request: where upstream streams a
// Readable (stream() with json: false, through node-fetch) both send the
// same bytes the same way; where it cannot (send() and json: true), the
// difference is the listed `streamedBodies`.
const { Readable } = require('stream');
const { startServer } = require('../helpers/server');
const { bothClients } = require('../helpers/upstream');
const allowed = require('./allowed-differences');

let server;
beforeAll(async () => {
	server = await startServer();
});
afterAll(() => server.close());

const drain = async (stream) => {
	for await (const chunk of stream) void chunk;
};

it('stream() with json: false sends a Readable body the same way, chunked', async () => {
	const seen = {};
	for (const [name, request] of bothClients()) {
		const body = Readable.from([Buffer.from('part one, '), Buffer.from('part two')]);
		await drain(await request.stream({ baseUrl: server.url, url: '/up', method: 'POST', json: false, body }));
		const { method, body: received, headers } = server.last();
		seen[name] = {
			method,
			body: received.toString(),
			transferEncoding: headers['transfer-encoding'],
			contentLength: headers['content-length'],
			contentType: headers['content-type'],
		};
	}
	expect(seen.native).toEqual(seen.upstream);
	expect(seen.native).toMatchObject({ body: 'part one, part two', transferEncoding: 'chunked' });
});

it('send() with a Readable: upstream sends the object as JSON, we stream it (listed difference)', async () => {
	expect(allowed.streamedBodies).toBeDefined();
	const [[, upstream], [, native]] = bothClients();
	await upstream.send({ baseUrl: server.url, url: '/up', method: 'POST', body: Readable.from([Buffer.from('bytes')]) });
	expect(server.last().body.toString()).toMatch(/^\{"_events"/);
	await native.send({ baseUrl: server.url, url: '/up', method: 'POST', body: Readable.from([Buffer.from('bytes')]) });
	expect(server.last().body.toString()).toBe('bytes');
});
