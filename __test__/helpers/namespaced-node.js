'use strict';
// Runs a `node` child process that prints one JSON value, optionally with
// extra environment (NODE_EXTRA_CA_CERTS is read only at startup) and
// optionally with its own /etc/resolv.conf saying `nameserver 127.0.0.1`:
// a private mount namespace (`unshare -m`, needs root) with a temporary file
// bind-mounted over /etc/resolv.conf, so that the child's name lookups go to
// a DNS server of the test's own on 127.0.0.1:53 and nowhere else.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile, execFileSync } = require('child_process');

/** Why the child cannot get its own resolv.conf here, or null when it can. */
function namespaceUnavailable() {
	try {
		execFileSync('unshare', ['-m', 'sh', '-c', 'mount --bind /dev/null /etc/resolv.conf'], { stdio: 'pipe' });
		return null;
	} catch (err) {
		return `\`unshare -m\` with a bind mount over /etc/resolv.conf failed (${err.code === 'ENOENT' ? 'unshare is not installed' : String(err.stderr || err.message).trim()}); the DNS failure tests need it (run them as root on Linux) so that no query can leave the machine`;
	}
}

/**
 * Runs `node script ...args` and resolves to the JSON it printed on stdout.
 * `localDns: true` gives the child the resolv.conf described above.
 */
function runNodeJson(script, args, { env = {}, localDns = false, timeout = 30000 } = {}) {
	let command = process.execPath;
	let commandArgs = [script, ...args];
	let resolvConf;
	if (localDns) {
		resolvConf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'brn-dns-')), 'resolv.conf');
		fs.writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n');
		command = 'unshare';
		// The positional parameters of `sh -c` carry the paths, unquoted safely.
		commandArgs = ['-m', 'sh', '-c', 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"', 'sh', resolvConf, process.execPath, script, ...args];
	}
	return new Promise((resolve, reject) => {
		execFile(command, commandArgs, { env: { ...process.env, ...env }, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
			if (resolvConf) {
				fs.rmSync(path.dirname(resolvConf), { recursive: true, force: true });
			}
			if (err) {
				reject(new Error(`${script} failed: ${err.message}\n${stderr}`));
				return;
			}
			try {
				resolve(JSON.parse(stdout));
			} catch (parseError) {
				reject(new Error(`${script} printed no JSON: ${stdout}\n${stderr}`));
			}
		});
	});
}

module.exports = { runNodeJson, namespaceUnavailable };
