'use strict';
// A tiny DNS server on UDP 127.0.0.1:53 that answers every query with
// NXDOMAIN and records the names it was asked for. With a resolv.conf that
// says `nameserver 127.0.0.1` (see `namespaced-node.js`), name lookups in a
// child process fail with ENOTFOUND without any query leaving the machine,
// and the recorded names prove where the queries went.
const dgram = require('dgram');

/** The question's name (labels from offset 12) and where the question ends. */
function readQuestion(message) {
	const labels = [];
	let offset = 12;
	while (offset < message.length && message[offset] !== 0) {
		const length = message[offset];
		labels.push(message.toString('latin1', offset + 1, offset + 1 + length));
		offset += 1 + length;
	}
	// The zero byte, QTYPE and QCLASS.
	return { name: labels.join('.'), end: offset + 5 };
}

function nxdomain(query, questionEnd) {
	const reply = Buffer.from(query.subarray(0, questionEnd));
	// QR = 1 (a response), opcode and RD copied; RA = 1, RCODE = 3 (NXDOMAIN).
	reply[2] = 0x80 | (query[2] & 0x79);
	reply[3] = 0x80 | 3;
	// One question, no answer, authority or additional records.
	reply.writeUInt16BE(1, 4);
	reply.writeUInt16BE(0, 6);
	reply.writeUInt16BE(0, 8);
	reply.writeUInt16BE(0, 10);
	return reply;
}

async function startNxdomainServer() {
	const queries = [];
	const socket = dgram.createSocket('udp4');
	socket.on('message', (message, remote) => {
		if (message.length < 12) {
			return;
		}
		const { name, end } = readQuestion(message);
		queries.push(name);
		socket.send(nxdomain(message, end), remote.port, remote.address);
	});
	await new Promise((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(53, '127.0.0.1', resolve);
	});
	return {
		queries,
		close: () => new Promise((resolve) => socket.close(resolve)),
	};
}

module.exports = { startNxdomainServer };
