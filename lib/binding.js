'use strict';
// The native addon, built by scripts/build.js (`npm run build`).
const path = require('path');

const file = path.join(__dirname, '..', 'balena_request_native.node');
try {
	module.exports = require(file);
} catch (err) {
	err.message = `balena-request-native: cannot load the native addon (${file}); run \`npm run build\`. ${err.message}`;
	throw err;
}
