'use strict';
// The HTTPS side of the benchmark (send-small-tls): which clients run it,
// how each is told to trust the bench server's CA, and how a row says which
// protocol the client ended up speaking.
//
// The bench server makes its CA at startup and writes the PEM to a file.
// native and balena-request trust it only through NODE_EXTRA_CA_CERTS,
// which must be in the client process's environment when it starts (Node
// reads it once); Node's fetch uses the same store. undici is given the CA
// itself (`connect: { ca }`), over HTTP/1.1 and, as `undici-h2`, with
// HTTP/2 allowed.

const fs = require('fs');

const TLS_CLIENTS = ['native', 'balena-request', 'undici', 'undici-h2', 'fetch'];

/** The response header in which the bench server says what it served. */
const PROTOCOL_HEADER = 'x-served-protocol';

/** The environment of a client process that must trust the CA in `caPath`. */
const clientEnv = (caPath) => ({ ...process.env, NODE_EXTRA_CA_CERTS: caPath });

/** The undici dispatcher of client `name` (`undici` or `undici-h2`) for the CA in `caPath`. */
function undiciDispatcher(undici, name, caPath) {
	return new undici.Agent({ allowH2: name === 'undici-h2', connect: { ca: fs.readFileSync(caPath) } });
}

/**
 * The protocol the server said it served to a client's runs (`h2`), all of
 * them if the runs disagree; undefined where the server does not say.
 */
function servedProtocol(runs) {
	const seen = [...new Set(runs.map((run) => run.protocol).filter(Boolean))];
	return seen.length ? seen.join(' + ') : undefined;
}

/** A table row's label: `native (h2)`, so the row says what was compared. */
const rowLabel = (client, protocol) => (protocol ? `${client} (${protocol})` : client);

module.exports = { TLS_CLIENTS, PROTOCOL_HEADER, clientEnv, undiciDispatcher, servedProtocol, rowLabel };
