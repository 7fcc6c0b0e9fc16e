'use strict';
// compat.md "Module shape" and "Factory options".
const errors = require('balena-errors');
const pkg = require('..');
const utils = require('../utils');
const { execFileSync, spawnSync } = require('child_process');
const path = require('path');
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
			expect(Object.keys(request).sort()).toEqual(['clone', 'forward', 'interceptors', 'pipeline', 'refreshToken', 'send', 'stream']);
			expect(request.interceptors).toEqual([]);
		}
	});

	it('resolves the package by name and its utils subpaths, /build/utils being the same module as /utils', () => {
		expect(require('balena-request-native')).toBe(pkg);
		expect(require('balena-request-native/utils')).toBe(utils);
		// balena-request's own tests and some tools require its build/utils.
		expect(require('balena-request-native/build/utils')).toBe(utils);
		expect(require('balena-request-native/build/utils.js')).toBe(utils);
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

describe('export conditions', () => {
	const root = path.join(__dirname, '..');
	const manifest = require('../package.json');
	const nodeWith = (args) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20000 });

	it('lists types first and browser before import and default, so each tool takes the entry meant for it', () => {
		expect(Object.keys(manifest.exports['.'])).toEqual(['types', 'browser', 'import', 'default']);
		for (const subpath of ['./utils', './build/utils', './build/utils.js']) {
			expect(manifest.exports[subpath]).toEqual({ types: './utils.d.ts', import: './utils.mjs', default: './utils.js' });
		}
		for (const file of ['index.mjs', 'utils.mjs', 'index.d.ts', 'utils.d.ts']) {
			expect(manifest.files).toContain(file);
		}
	});

	it('resolves to the browser stub under the browser condition, and to the Node entries without it', () => {
		const resolve = (conditions) =>
			execFileSync(process.execPath, [...conditions, '-p', "require.resolve('balena-request-native')"], { cwd: root, encoding: 'utf8' }).trim();
		expect(resolve(['--conditions=browser'])).toBe(path.join(root, 'lib', 'browser.js'));
		expect(resolve([])).toBe(path.join(root, 'index.js'));
	});

	for (const [how, args] of [
		['require', ['--conditions=browser', '-e', "require('balena-request-native')"]],
		['import', ['--conditions=browser', '--input-type=module', '-e', "import 'balena-request-native'"]],
	]) {
		it(`fails at ${how} in a browser build with a message that says what to do`, () => {
			const run = nodeWith(args);
			expect(run.status).not.toBe(0);
			expect(run.stderr).toContain('balena-request-native runs on Node.js only');
			expect(run.stderr).toContain('balena-request itself serves the browser');
			expect(run.stderr).toContain('override only where you build for Node.js');
		});
	}

	it('leaves /utils usable in a browser build: it has no native code', () => {
		const run = nodeWith(['--conditions=browser', '-p', "typeof require('balena-request-native/utils').getBody"]);
		expect(run.stderr).toBe('');
		expect(run.stdout.trim()).toBe('function');
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
