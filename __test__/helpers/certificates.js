'use strict';
// Certificates for the TLS tests, made at test time with the openssl CLI in
// a temporary directory (no private key is ever committed). `CertFactory`
// makes any certificate a case needs; `makeCertificates()` is the set the
// network-error tests share: a test CA, server certificates it signs (valid
// for 127.0.0.1, valid for another name only, expired), and two self-signed
// ones (a plain leaf, and a CA certificate used as the server's own, which
// is what `openssl req -x509` makes by default). Every server certificate
// names 127.0.0.1 (tests never resolve a host name) unless the case is a
// wrong name.
//
// `openssl ca` is used rather than `req -x509 -days`, because only it can
// set arbitrary validity dates (an expired certificate) on OpenSSL 3.0.
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

function hasOpenssl() {
	try {
		execFileSync('openssl', ['version'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n';

class CertFactory {
	constructor() {
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-trust-'));
	}

	file(name) {
		return path.join(this.dir, name);
	}

	openssl(args) {
		execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
	}

	/** A fresh P-256 key; returns its path. */
	key(name) {
		const file = this.file(`${name}.key`);
		this.openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file]);
		return file;
	}

	/**
	 * Signs a certificate for `name`'s key with `issuer` (or itself when
	 * `issuer` is null). `ca`: basicConstraints CA:TRUE. `san`: the
	 * subjectAltName value. Dates are `YYYYMMDDHHMMSSZ`.
	 */
	cert(name, { issuer = null, ca = false, san = 'IP:127.0.0.1', start, end }) {
		const key = this.key(name);
		const csr = this.file(`${name}.csr`);
		this.openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
		const ext = this.file(`${name}.ext`);
		fs.writeFileSync(ext, (ca ? CA_EXT : LEAF_EXT) + (san ? `subjectAltName=${san}\n` : ''));
		const signer = issuer ?? { key, cert: null };
		// A minimal `openssl ca` setup per certificate: its own database.
		const db = this.file(`${name}.index`);
		fs.writeFileSync(db, '');
		// Random serials: two certificates never share issuer and serial.
		const serial = this.file(`${name}.serial`);
		fs.writeFileSync(serial, `${crypto.randomBytes(8).toString('hex')}\n`);
		const conf = this.file(`${name}.cnf`);
		fs.writeFileSync(
			conf,
			[
				'[ca]',
				'default_ca = local',
				'[local]',
				`database = ${db}`,
				`serial = ${serial}`,
				`new_certs_dir = ${this.dir}`,
				'default_md = sha256',
				'policy = any',
				'email_in_dn = no',
				'unique_subject = no',
				'copy_extensions = none',
				'[any]',
				'commonName = supplied',
				'',
			].join('\n'),
		);
		const out = this.file(`${name}.pem`);
		this.openssl([
			'ca', '-batch', '-notext', '-config', conf, '-in', csr, '-out', out,
			'-keyfile', signer.key,
			...(signer.cert ? ['-cert', signer.cert] : ['-selfsign']),
			'-extfile', ext,
			'-startdate', start ?? relativeDate(-1),
			'-enddate', end ?? relativeDate(365),
		]);
		return { name, key, cert: out, pem: fs.readFileSync(out, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
	}

	/** A PEM bundle file of the given certificates, for NODE_EXTRA_CA_CERTS. */
	bundle(name, certs) {
		const file = this.file(`${name}.bundle.pem`);
		fs.writeFileSync(file, certs.map((c) => c.pem).join(''));
		return file;
	}

	remove() {
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

/** `openssl ca`'s date form, `days` from now. */
function relativeDate(days) {
	const d = new Date(Date.now() + days * 86400000);
	return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}


/**
 * The shared set; each certificate is `{ cert, key }` (PEM text) with
 * `certPath` and `keyPath`, plus `dir` and `remove()`.
 */
function makeCertificates() {
	if (!hasOpenssl()) {
		throw new Error('the TLS tests need the `openssl` command line tool on PATH');
	}
	const factory = new CertFactory();
	const shaped = (c) => ({ cert: c.pem, key: c.keyPem, certPath: c.cert, keyPath: c.key });
	const ca = factory.cert('test-ca', { ca: true, san: null });
	return {
		dir: factory.dir,
		ca: shaped(ca),
		server: shaped(factory.cert('server', { issuer: ca })),
		otherName: shaped(factory.cert('other-name', { issuer: ca, san: 'DNS:other.test' })),
		expired: shaped(factory.cert('expired', { issuer: ca, start: '20200101000000Z', end: '20200201000000Z' })),
		selfSigned: shaped(factory.cert('self-signed', {})),
		selfSignedCa: shaped(factory.cert('self-signed-ca', { ca: true })),
		remove: () => factory.remove(),
	};
}

module.exports = { CertFactory, hasOpenssl, makeCertificates };
