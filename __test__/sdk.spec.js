'use strict';
// The balena SDK with this package in place of balena-request (jest's
// moduleNameMapper does what an npm `overrides` line does for a user),
// against a local API: pine queries, auth and token refresh, typed errors,
// the 429 retry interceptor.
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { tempDir } = require('./helpers/temp-dir');
const { makeJwt } = require('./helpers/auth');

const payload = (authorization) =>
	authorization && JSON.parse(Buffer.from(authorization.split('.')[1], 'base64url')).username;

let server;
let apiUrl;
let seen;
let busy;
beforeAll(async () => {
	server = http.createServer((req, res) => {
		seen.push({ method: req.method, url: req.url, user: payload(req.headers.authorization), client: req.headers['x-balena-client'] });
		const reply = (status, body, headers = {}) => {
			res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
			res.end(JSON.stringify(body));
		};
		const url = new URL(req.url, 'http://x');
		if (url.pathname === '/user/v1/refresh-token') {
			res.writeHead(200, { 'Content-Type': 'text/plain' });
			return res.end(makeJwt({ name: 'refreshed' }));
		}
		if (url.pathname === '/actor/v1/whoami') return reply(200, { id: 5, actor: 7, username: payload(req.headers.authorization) });
		if (req.url.includes('0123456789abcdef')) return reply(200, { d: [] });
		if (url.pathname === '/v7/device') {
			if (busy-- > 0) {
				res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'text/plain' });
				return res.end('Too Many Requests');
			}
			return reply(200, { d: [{ id: 1, device_name: 'a b' }] });
		}
		if (url.pathname === '/v7/application') return reply(401, { message: 'Unauthorized' });
		reply(404, { error: 'not found' });
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	apiUrl = `http://127.0.0.1:${server.address().port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
	seen = [];
	busy = 0;
});

const newSdk = (opts = {}) => {
	const { getSdk } = require('balena-sdk');
	const dataDirectory = tempDir('brn-sdk-');
	return getSdk({ apiUrl, dataDirectory, ...opts });
};

it('runs on this package', () => {
	expect(require('balena-request')).toBe(require('..'));
});

it('pine queries arrive byte-exact, with the SDK client header and the token', async () => {
	const sdk = newSdk();
	await sdk.auth.loginWithToken(makeJwt({ name: 'johndoe' }));
	const devices = await sdk.pine.get({ resource: 'device', options: { $filter: { device_name: 'a b' }, $select: ['id', 'device_name'] } });
	expect(devices).toEqual([{ id: 1, device_name: 'a b' }]);
	expect(seen).toEqual([
		{
			method: 'GET',
			url: '/v7/device?$filter=device_name%20eq%20%27a%20b%27&$select=id,device_name',
			user: 'johndoe',
			client: expect.stringMatching(/^balena-sdk\//),
		},
	]);
});

it('refreshes a day-old token before a baseUrl request (whoami)', async () => {
	const sdk = newSdk();
	await sdk.auth.loginWithToken(makeJwt({ name: 'olduser', ageMs: 2 * 86400e3 }));
	const who = await sdk.auth.whoami();
	expect(who.username).toBe('refreshed');
	expect(seen.map((r) => [r.url, r.user])).toEqual([
		['/user/v1/refresh-token', 'olduser'],
		['/actor/v1/whoami', 'refreshed'],
	]);
});

it('gives typed errors', async () => {
	const sdk = newSdk();
	await sdk.auth.loginWithToken(makeJwt());
	await expect(sdk.models.device.get('0123456789abcdef0123456789abcdef')).rejects.toBeInstanceOf(sdk.errors.BalenaDeviceNotFound);
	const err = await sdk.pine.get({ resource: 'application' }).catch((e) => e);
	expect(err).toBeInstanceOf(sdk.errors.BalenaRequestError);
	expect(err.statusCode).toBe(401);
	expect(err.message).toBe('Request error: Unauthorized');
});

it('retries 429s with retryRateLimitedRequests', async () => {
	const sdk = newSdk({ retryRateLimitedRequests: true });
	await sdk.auth.loginWithToken(makeJwt());
	busy = 2;
	const devices = await sdk.pine.get({ resource: 'device' });
	expect(devices).toHaveLength(1);
	expect(seen.filter((r) => r.url.startsWith('/v7/device'))).toHaveLength(3);
});
