'use strict';
// A real balena-auth instance on a temporary directory, and JWTs made here.
const BalenaAuth = require('balena-auth').default;
const { tempDir } = require('./temp-dir');

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT issued `ageMs` ago, expiring `expiresInMs` after now. */
function makeJwt({ ageMs = 0, expiresInMs = 3600e3, name = 'johndoe' } = {}) {
	const now = Date.now();
	const payload = {
		id: 1,
		username: name,
		iat: Math.floor((now - ageMs) / 1000),
		exp: Math.floor((now + expiresInMs) / 1000),
	};
	return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`;
}

function makeAuth() {
	const dir = tempDir('brn-auth-');
	return new BalenaAuth({ dataDirectory: dir, tokenKey: 'token' });
}

module.exports = { makeJwt, makeAuth };
