'use strict';
// Shared by esm.spec.js and esm-node-versions.spec.js: runs
// fixtures/esm-consumer.mjs under a given `node` binary and asserts on its
// report (the ESM entries give the very objects `require` gives, and a real
// request works through them).
const { execFile } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');

function runEsmConsumer(nodeBinary) {
	return new Promise((resolve, reject) => {
		execFile(
			nodeBinary,
			[path.join(__dirname, 'fixtures', 'esm-consumer.mjs')],
			{ cwd: root, encoding: 'utf8', timeout: 30000 },
			(err, stdout, stderr) => {
				if (err) {
					reject(new Error(`${nodeBinary} exited with ${err.code}: ${stderr}${stdout}`));
					return;
				}
				resolve(JSON.parse(stdout.trim().split('\n').pop()));
			},
		);
	});
}

function expectEsmReport(report, nodeMajor) {
	expect(report.error).toBeUndefined();
	if (nodeMajor != null) {
		expect(report.node).toMatch(new RegExp(`^v${nodeMajor}\\.`));
	}

	// Default import: the CommonJS factory itself; named: each property of it.
	expect(report.main.defaultIsRequire).toBe(true);
	expect(report.main.requireKeys).toEqual(['BalenaExpiredToken', 'BalenaInvalidParameterError', 'BalenaRequestError', 'getRequest', 'policies']);
	expect(report.main.names).toEqual(report.main.requireKeys);
	expect(report.main.same).toEqual(report.main.requireKeys);
	expect(report.main.aliasIsGetRequest).toBe(true);
	expect(report.main.errorsAreBalenaErrors).toBe(true);

	// /utils, /build/utils and /build/utils.js: one module object, by import and require.
	const u = report.utils;
	expect([u.defaultIsRequire, u.buildUtilsDefaultIsRequire, u.buildUtilsJsDefaultIsRequire]).toEqual([true, true, true]);
	expect([u.requireBuildUtilsIsRequireUtils, u.requireBuildUtilsJsIsRequireUtils]).toEqual([true, true]);
	expect(u.requireKeys).toContain('shouldRefreshKey');
	expect(u.names).toEqual(u.requireKeys);
	expect(u.same).toEqual(u.requireKeys);
	expect(u.buildUtils).toEqual({ names: u.requireKeys, same: u.requireKeys });
	expect(u.interval).toBe(86400000);
	expect(u.redacted).toEqual({ apiKey: '<redacted>', url: '/x' });

	// Real requests to 127.0.0.1 through the ESM-imported factory.
	expect(report.requests.send).toEqual({
		statusCode: 200,
		body: { method: 'POST', url: '/send?a=1', contentType: 'application/json', body: '{"hello":"esm"}' },
	});
	expect(report.requests.stream).toEqual({ mime: 'application/octet-stream', body: 'hello stream' });
	expect(report.requests.failure).toEqual({ isNamedClass: true, statusCode: 404, message: 'Request error: no such thing' });
}

module.exports = { runEsmConsumer, expectEsmReport };
