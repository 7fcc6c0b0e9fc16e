'use strict';
// compat.md "Module shape" and "Factory options".
const errors = require('balena-errors');
const pkg = require('..');
const utils = require('../utils');
const { startServer } = require('./helpers/server');

describe('module shape', () => {
	it('is a callable factory that also carries getRequest and the error classes', () => {
		expect(typeof pkg).toBe('function');
		expect(pkg.getRequest).toBe(pkg.getRequest);
		expect(typeof pkg.getRequest).toBe('function');
		expect(pkg.BalenaRequestError).toBe(errors.BalenaRequestError);
		expect(pkg.BalenaExpiredToken).toBe(errors.BalenaExpiredToken);
		expect(pkg.BalenaInvalidParameterError).toBe(errors.BalenaInvalidParameterError);
		const viaFactory = pkg({});
		const viaGetRequest = pkg.getRequest({});
		for (const request of [viaFactory, viaGetRequest]) {
			expect(Object.keys(request).sort()).toEqual(['interceptors', 'refreshToken', 'send', 'stream']);
			expect(request.interceptors).toEqual([]);
		}
	});

	it('resolves the package by name and its utils subpath', () => {
		expect(require('balena-request-native')).toBe(pkg);
		expect(require('balena-request-native/utils')).toBe(utils);
	});

	it('exposes the utils helpers as plain writable properties of an ES module object', () => {
		expect(utils.__esModule).toBe(true);
		for (const name of [
			'shouldRefreshKey', 'getAuthorizationHeader', 'getErrorMessageFromResponse', 'isErrorCode',
			'isResponseCompressed', 'getResponseLength', 'debugRequest', 'getBody', 'getStreamContents',
		]) {
			expect(typeof utils[name]).toBe('function');
			expect(Object.getOwnPropertyDescriptor(utils, name).writable).toBe(true);
		}
		expect(utils.TOKEN_REFRESH_INTERVAL).toBe(86400000);
	});

	it('utils helpers behave like balena-request', async () => {
		const h = new Headers({ 'Content-Length': '12', 'X-Transfer-Length': '5', 'Content-Encoding': 'gzip' });
		expect(utils.getResponseLength({ headers: h })).toEqual({ uncompressed: 12, compressed: 5 });
		expect(utils.isResponseCompressed({ headers: h })).toBe(true);
		expect(utils.isErrorCode(399)).toBe(false);
		expect(utils.isErrorCode(400)).toBe(true);
		expect(utils.getErrorMessageFromResponse({ body: { error: { text: 'a' } } })).toBe('a');
		expect(utils.getErrorMessageFromResponse({ body: '' })).toBe('The request was unsuccessful');
		expect(await utils.getAuthorizationHeader(undefined)).toBeUndefined();
	});
});

describe('factory options', () => {
	let server;
	beforeAll(async () => {
		server = await startServer();
	});
	afterAll(() => server.close());

	it('reads the interceptors array afresh at every call (replaced, mutated, pushed)', async () => {
		const request = pkg({});
		const mark = (value) => ({
			request: (o) => {
				o.headers['X-Mark'] = value;
				return o;
			},
		});
		request.interceptors.push(mark('pushed'));
		await request.send({ url: `${server.url}/a` });
		expect(server.last().headers['x-mark']).toBe('pushed');
		request.interceptors[0] = mark('assigned');
		await request.send({ url: `${server.url}/a` });
		expect(server.last().headers['x-mark']).toBe('assigned');
		request.interceptors = [];
		await request.send({ url: `${server.url}/a` });
		expect(server.last().headers['x-mark']).toBeUndefined();
		request.interceptors = [mark('replaced')];
		await request.send({ url: `${server.url}/a` });
		expect(server.last().headers['x-mark']).toBe('replaced');
	});

	it('takes the default retries from the factory', async () => {
		let seen = 0;
		const flaky = await startServer();
		flaky.server.on('connection', (socket) => {
			seen++;
			if (seen <= 2) {
				socket.destroy();
			}
		});
		const request = pkg({ retries: 2 });
		const response = await request.send({ url: `${flaky.url}/x` });
		expect(response.body).toBe('ok');
		expect(seen).toBe(3);
		await flaky.close();
	});

	it('accepts isBrowser and ignores it', async () => {
		const request = pkg({ isBrowser: true });
		const response = await request.send({ url: `${server.url}/a` });
		expect(response.statusCode).toBe(200);
	});
});
