'use strict';
// A redirect to another port of the same host is another origin: the token
// (the saved one or the caller's) and cookies stay behind, for send() and
// stream(); a redirect on the same origin keeps them.
const { startServer } = require('./helpers/server');
const { makeAuth, makeJwt } = require('./helpers/auth');
const getRequest = require('..');

let target;
let origin;
let auth;
beforeAll(async () => {
	target = await startServer();
	origin = await startServer({
		'/elsewhere': (req, res) => {
			res.writeHead(302, { Location: `${target.url}/landed` });
			res.end();
		},
		'/here': (req, res) => {
			res.writeHead(307, { Location: '/landed' });
			res.end();
		},
	});
	auth = makeAuth();
	await auth.setKey(makeJwt());
});
afterAll(async () => {
	await target.close();
	await origin.close();
});

const drain = async (stream) => {
	for await (const chunk of stream) void chunk;
};

describe('redirects and credentials', () => {
	it.each(['send', 'stream'])('%s(): another port keeps no token and no cookie', async (mode) => {
		const request = getRequest({ auth });
		const options = { baseUrl: origin.url, url: '/elsewhere', headers: { Cookie: 'session=1', 'X-Other': 'kept' } };
		if (mode === 'send') {
			await request.send(options);
		} else {
			await drain(await request.stream(options));
		}
		const landed = target.last();
		expect(landed.path).toBe('/landed');
		expect(landed.headers.authorization).toBeUndefined();
		expect(landed.headers.cookie).toBeUndefined();
		expect(landed.headers['x-other']).toBe('kept');
		// The first hop had them.
		expect(origin.last().headers.authorization).toMatch(/^Bearer /);
		expect(origin.last().headers.cookie).toBe('session=1');
	});

	it.each(['send', 'stream'])('%s(): the same origin keeps them', async (mode) => {
		const request = getRequest({ auth });
		const options = { baseUrl: origin.url, url: '/here', headers: { Cookie: 'session=1' } };
		if (mode === 'send') {
			await request.send(options);
		} else {
			await drain(await request.stream(options));
		}
		const landed = origin.last();
		expect(landed.path).toBe('/landed');
		expect(landed.headers.authorization).toMatch(/^Bearer /);
		expect(landed.headers.cookie).toBe('session=1');
	});
});
