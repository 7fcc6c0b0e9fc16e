'use strict';
// Certificates for the TLS failure tests, made at test time with the openssl
// CLI into a temporary directory (no private key is ever committed): a test
// CA, server certificates it signs (valid for 127.0.0.1, valid for another
// name only, expired), and two self-signed ones (a plain leaf, and a CA
// certificate used as the server's own, which is what `openssl req -x509`
// makes by default).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function openssl(args, cwd) {
	try {
		return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (err) {
		if (err.code === 'ENOENT') {
			throw new Error('the TLS tests need the `openssl` command line tool on PATH');
		}
		throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr}`);
	}
}

// One config file for everything: `req` sections for the names, extension
// sections for each kind of certificate, and a minimal `ca` section, because
// `openssl ca` is what takes explicit validity dates (for the expired one).
const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
[test_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ip]
basicConstraints = critical,CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
[server_other_name]
basicConstraints = critical,CA:FALSE
subjectAltName = DNS:other.test
extendedKeyUsage = serverAuth
[self_signed_ca]
basicConstraints = critical,CA:TRUE
subjectAltName = IP:127.0.0.1
[ca]
default_ca = signer
[signer]
database = index.txt
unique_subject = no
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
copy_extensions = none
[any_name]
commonName = supplied
`;

const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes the certificates and returns `{ dir, ca, server, otherName, expired,
 * selfSigned, selfSignedCa, remove() }`; each is `{ cert, key }` (PEM text)
 * with `certPath` and `keyPath`.
 */
function makeCertificates() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-certs-'));
	fs.writeFileSync(path.join(dir, 'openssl.cnf'), CONFIG);
	fs.writeFileSync(path.join(dir, 'index.txt'), '');
	fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
	const run = (args) => openssl(args, dir);
	const cnf = ['-config', 'openssl.cnf'];
	const read = (name) => ({
		cert: fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'),
		key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'),
		certPath: path.join(dir, `${name}.pem`),
		keyPath: path.join(dir, `${name}.key`),
	});

	run(['req', '-x509', ...cnf, '-extensions', 'test_ca', ...keyArgs, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=balena-request-native test CA']);
	const signed = (name, extensions, dates) => {
		run(['req', '-new', ...cnf, ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
		run(['ca', '-batch', ...cnf, '-notext', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.pem`, '-extfile', 'openssl.cnf', '-extensions', extensions, ...dates]);
		return read(name);
	};
	const current = ['-days', '30'];
	const server = signed('server', 'server_ip', current);
	const otherName = signed('other-name', 'server_other_name', current);
	const expired = signed('expired', 'server_ip', ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']);
	const selfSigned = (name, extensions) => {
		run(['req', '-x509', ...cnf, '-extensions', extensions, ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30']);
		return read(name);
	};
	return {
		dir,
		ca: read('ca'),
		server,
		otherName,
		expired,
		selfSigned: selfSigned('self-signed', 'server_ip'),
		selfSignedCa: selfSigned('self-signed-ca', 'self_signed_ca'),
		remove: () => fs.rmSync(dir, { recursive: true, force: true }),
	};
}

module.exports = { makeCertificates };
