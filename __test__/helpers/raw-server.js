'use strict';
// A misbehaving server on raw TCP sockets: each connection is handed to
// `behave(socket, requestHead, index)` once a request head has arrived.
const net = require('net');

async function startRawServer(behave) {
	const sockets = new Set();
	let connections = 0;
	const server = net.createServer((socket) => {
		const index = connections++;
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		let head = '';
		const onData = (data) => {
			head += data.toString('latin1');
			if (head.includes('\r\n\r\n')) {
				socket.off('data', onData);
				socket.resume();
				behave(socket, head, index);
			}
		};
		socket.on('data', onData);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		connections: () => connections,
		open: () => sockets.size,
		/** No new connections; those open stay. */
		stopListening: () => new Promise((resolve) => server.close(() => resolve())),
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}

const reply = (socket, status, headers, body = '') => {
	const lines = [`HTTP/1.1 ${status} X`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
	socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
};

module.exports = { startRawServer, reply };
