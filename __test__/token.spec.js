'use strict';
// compat.md "Preparing a request": token refresh, expired token, Bearer
// header; and "refreshToken({ baseUrl })".
const sinon = require('sinon');
const errors = require('balena-errors');
const getRequest = require('..');
const utils = require('../utils');
const { startServer, json, text } = require('./helpers/server');
const { makeAuth, makeJwt } = require('./helpers/auth');

const oldToken = makeJwt({ name: 'johndoe' });
const newToken = makeJwt({ name: 'janedoe' });
let server;
let auth;
let request;

beforeEach(async () => {
	server = await startServer({
		'/foo': text(200, 'bar'),
		'/user/v1/refresh-token': text(200, newToken),
	});
	auth = makeAuth();
	await auth.setKey(oldToken);
	request = getRequest({ auth });
});
afterEach(async () => {
	sinon.restore();
	await server.close();
});

describe('Bearer header', () => {
	it('sends Authorization: Bearer <key> and shows it in response.request.headers', async () => {
		const response = await request.send({ baseUrl: server.url, url: '/foo' });
		expect(server.last().headers.authorization).toBe(`Bearer ${oldToken}`);
		expect(response.request.headers.Authorization).toBe(`Bearer ${oldToken}`);
	});

	it('sends no Authorization with sendToken: false, or without a key, or without auth', async () => {
		await request.send({ baseUrl: server.url, url: '/foo', sendToken: false });
		expect(server.last().headers.authorization).toBeUndefined();
		await auth.removeKey();
		const response = await request.send({ baseUrl: server.url, url: '/foo' });
		expect(server.last().headers.authorization).toBeUndefined();
		expect(response.request.headers.Authorization).toBeUndefined();
		await getRequest({}).send({ baseUrl: server.url, url: '/foo' });
		expect(server.last().headers.authorization).toBeUndefined();
	});

	it('calls the auth methods at every request, so stubs on them take effect', async () => {
		sinon.stub(auth, 'getKey').resolves('stubbed-key');
		await request.send({ baseUrl: server.url, url: '/foo' });
		expect(server.last().headers.authorization).toBe('Bearer stubbed-key');
		sinon.restore();
		sinon.stub(auth, 'hasKey').resolves(false);
		await request.send({ baseUrl: server.url, url: '/foo' });
		expect(server.last().headers.authorization).toBeUndefined();
	});

	it('does not leave the token in the caller\'s own headers object', async () => {
		const headers = { 'X-Custom': 'yes' };
		await request.send({ baseUrl: server.url, url: '/foo', headers });
		expect(server.last().headers['x-custom']).toBe('yes');
		expect(headers.Authorization).toBeUndefined();
	});
});

describe('token refresh', () => {
	it('does not refresh when utils.shouldRefreshKey says no', async () => {
		const stub = sinon.stub(utils, 'shouldRefreshKey').resolves(false);
		await request.send({ baseUrl: server.url, url: '/foo' });
		expect(stub.calledOnce).toBe(true);
		expect(stub.firstCall.args[0]).toBe(auth);
		expect(server.requests.map((r) => r.path)).toEqual(['/foo']);
	});

	it('refreshes first with a baseUrl, and uses the new token in the same request', async () => {
		sinon.stub(utils, 'shouldRefreshKey').callsFake(async () => (await auth.getKey()) === oldToken);
		const response = await request.send({ baseUrl: server.url, url: '/foo' });
		expect(response.body).toBe('bar');
		expect(server.requests.map((r) => r.path)).toEqual(['/user/v1/refresh-token', '/foo']);
		expect(server.requests[0].headers.authorization).toBe(`Bearer ${oldToken}`);
		expect(server.requests[1].headers.authorization).toBe(`Bearer ${newToken}`);
		expect(await auth.getKey()).toBe(newToken);
	});

	it('does not refresh without a baseUrl (absolute url)', async () => {
		sinon.stub(utils, 'shouldRefreshKey').resolves(true);
		sinon.stub(auth, 'isExpired').resolves(false);
		const response = await request.send({ url: `${server.url}/foo` });
		expect(response.body).toBe('bar');
		expect(server.requests.map((r) => r.path)).toEqual(['/foo']);
		expect(await auth.getKey()).toBe(oldToken);
	});

	it('does not refresh with refreshToken: false', async () => {
		const stub = sinon.stub(utils, 'shouldRefreshKey').resolves(true);
		await request.send({ baseUrl: server.url, url: '/foo', refreshToken: false });
		expect(stub.called).toBe(false);
		expect(server.requests.map((r) => r.path)).toEqual(['/foo']);
	});

	it('fails with BalenaExpiredToken when the key is expired, through requestError hooks', async () => {
		sinon.stub(utils, 'shouldRefreshKey').resolves(true);
		sinon.stub(auth, 'isExpired').resolves(true);
		const seen = [];
		request.interceptors.push({
			requestError: (err) => {
				seen.push(err);
				throw err;
			},
		});
		const err = await request.send({ url: `${server.url}/foo` }).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaExpiredToken);
		expect(err.token).toBe(oldToken);
		expect(seen).toEqual([err]);
		expect(server.requests.length).toBe(0);
	});

	it('lets a requestError hook recover from an expired token by returning options', async () => {
		sinon.stub(utils, 'shouldRefreshKey').resolves(true);
		sinon.stub(auth, 'isExpired').resolves(true);
		request.interceptors.push({
			requestError: () => ({ url: `${server.url}/foo`, headers: { 'X-Recovered': '1' } }),
		});
		const response = await request.send({ url: `${server.url}/foo` });
		expect(response.body).toBe('bar');
		expect(server.last().headers['x-recovered']).toBe('1');
	});

	it('on a 401 refresh with an expired key: removes the key and fails with BalenaExpiredToken', async () => {
		server.routes['/user/v1/refresh-token'] = text(401, 'Unauthorized');
		sinon.stub(utils, 'shouldRefreshKey').resolves(true);
		sinon.stub(auth, 'isExpired').resolves(true);
		const err = await request.send({ baseUrl: server.url, url: '/foo' }).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaExpiredToken);
		expect(err.token).toBe(oldToken);
		expect(await auth.hasKey()).toBe(false);
		expect(server.requests.map((r) => r.path)).toEqual(['/user/v1/refresh-token']);
	});
});

describe('refreshToken({ baseUrl })', () => {
	it('fails without an auth module', async () => {
		await expect(getRequest({}).refreshToken({ baseUrl: server.url })).rejects.toThrow(
			'Auth module not provided in initializer',
		);
	});

	it('saves and resolves the new key', async () => {
		const key = await request.refreshToken({ baseUrl: server.url });
		expect(key).toBe(newToken);
		expect(await auth.getKey()).toBe(newToken);
		expect(server.last().path).toBe('/user/v1/refresh-token');
		expect(server.last().headers.authorization).toBe(`Bearer ${oldToken}`);
	});

	it('passes on a 401 when the key is not expired, and keeps the key', async () => {
		server.routes['/user/v1/refresh-token'] = json(401, { message: 'nope' });
		const err = await request.refreshToken({ baseUrl: server.url }).catch((e) => e);
		expect(err).toBeInstanceOf(errors.BalenaRequestError);
		expect(err.statusCode).toBe(401);
		expect(await auth.getKey()).toBe(oldToken);
	});
});
