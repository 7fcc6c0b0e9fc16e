'use strict';
// A raw TCP server that keeps connections open and hands every request on
// them to `behave({ socket, head, method, connection, nth })`: `connection`
// is the connection's index, `nth` the request's index on that connection.
// It reads Content-Length bodies so that a POST's body is not taken for the
// next request; it records every request head it saw, in order.
const net = require('net');

async function startKeepAliveServer(behave) {
	const sockets = new Set();
	const requests = [];
	let connections = 0;
	const server = net.createServer((socket) => {
		const connection = connections++;
		let nth = 0;
		let buffered = Buffer.alloc(0);
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		socket.on('data', (data) => {
			buffered = Buffer.concat([buffered, data]);
			for (;;) {
				const end = buffered.indexOf('\r\n\r\n');
				if (end < 0) return;
				const head = buffered.subarray(0, end).toString('latin1');
				const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
				if (buffered.length < end + 4 + length) return;
				buffered = buffered.subarray(end + 4 + length);
				const [method, path] = head.split(' ');
				requests.push({ connection, nth, method, path });
				behave({ socket, head, method, connection, nth: nth++ });
				if (socket.destroyed) return;
			}
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		connections: () => connections,
		requests: () => requests.map((r) => ({ ...r })),
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}

/** A complete keep-alive response with a body. */
const answer = (socket, body = 'ok') => {
	socket.write(
		`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
	);
};

module.exports = { startKeepAliveServer, answer };
