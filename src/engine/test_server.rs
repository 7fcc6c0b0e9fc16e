//! For the engine's tests that play an HTTP server on a raw socket.

use std::io::Read;
use std::net::TcpStream;

/// Reads one request head, byte by byte so that nothing of a next request
/// on the same (keep-alive) connection is taken with it.
pub fn read_head(socket: &mut TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(())
}
