'use strict';
// Child process for network-errors.spec.js: runs one URL through upstream and
// this package (send and stream) and prints what each caller observed, as
// JSON. It exists for settings Node reads once per process
// (NODE_EXTRA_CA_CERTS) or that must differ from the machine's (a private
// /etc/resolv.conf): see helpers/namespaced-node.js.
const { observeBoth } = require('./network-errors.observe');

const [url] = process.argv.slice(2);

observeBoth(url).then(
	(result) => {
		process.stdout.write(JSON.stringify(result));
		process.exit(0);
	},
	(err) => {
		process.stderr.write(String(err && err.stack));
		process.exit(1);
	},
);
