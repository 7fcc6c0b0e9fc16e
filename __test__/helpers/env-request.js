'use strict';
// Runs env-request-child.js with exactly the proxy and CA variables a case
// gives (those of the test run itself are removed first) and returns what
// it printed.
const { execFile } = require('child_process');
const path = require('path');

const child = path.join(__dirname, 'env-request-child.js');
const OWN_VARS = /^(https?_proxy|all_proxy|no_proxy|request_method|node_extra_ca_certs)$/i;

function requestInChild({ clients = ['native', 'upstream'], url, env = {}, mode = 'send' }) {
	const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OWN_VARS.test(name)));
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			[child, JSON.stringify({ clients, url, mode })],
			{ env: { ...base, ...env }, timeout: 15000 },
			(err, stdout, stderr) => {
				try {
					resolve(JSON.parse(stdout));
				} catch {
					reject(new Error(`child failed (${err?.message}): ${stdout}${stderr}`));
				}
			},
		);
	});
}

module.exports = { requestInChild };
