'use strict';
// Temporary directories that are removed when the test file ends (or, in a
// child process, when it exits): tests must not leave files behind.
const fs = require('fs');
const os = require('os');
const path = require('path');

const made = [];

function removeAll() {
	for (const dir of made.splice(0)) {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

if (typeof afterAll === 'function') {
	afterAll(removeAll);
} else {
	process.on('exit', removeAll);
}

/** A new empty directory under the system's temporary directory. */
function tempDir(prefix) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	made.push(dir);
	return dir;
}

module.exports = { tempDir };
