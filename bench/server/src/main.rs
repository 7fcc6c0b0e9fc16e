//! The benchmark's server: a minimal HTTP/1.1 keep-alive responder on
//! 127.0.0.1, single-threaded (pin it to one core with taskset). It answers
//! fixed bodies fast enough that the client under test is what is measured.
//!
//! GET  /small            ~230-byte JSON
//! POST /post             reads the body, answers a small JSON
//! GET  /plain?mib=N      N MiB of bytes, with Content-Length
//! GET  /gzip?mib=N       N MiB (decoded) as gzip, X-Transfer-Length only: a
//!                        dense synthetic body, the worst case for inflate
//! GET  /gzip-image?mib=N N MiB (N a multiple of 64) of an OS-image-like body
//!                        as gzip, X-Transfer-Length only
//!
//! `bench-server <file>`: the image body is made of <file>'s bytes (run.js
//! passes node's own executable: real machine code and data, as in an OS
//! image's root filesystem) followed by zeros (the empty space of its
//! partitions), compressed at gzip's default level, about 4:1 -- the shape
//! of a balenaOS image as the download server sends it.
//!
//! It also listens with TLS (HTTP/2 or HTTP/1.1, see `tls.rs`) for /small
//! and /post.
//!
//! Prints `listening <port> tls <port> ca <CA PEM file>` on stdout once
//! ready; whoever started it removes the CA file.

mod tls;

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SMALL: &str = r#"{"d":[{"id":1234567,"uuid":"0123456789abcdef0123456789abcdef","device_name":"bench-device-one","is_online":true,"status":"Idle","os_version":"balenaOS 5.3.21","supervisor_version":"16.1.10","last_connectivity_event":"2026-11-01T00:00:00.000Z"}]}"#;
const BLOCK: usize = 1024 * 1024;
/// The OS-image-like body: this many MiB, the first IMAGE_FILE_MIB of them
/// from the file, the rest zeros.
const IMAGE_MIB: usize = 64;
const IMAGE_FILE_MIB: usize = 40;

struct Bodies {
    plain_block: Vec<u8>,
    /// One gzip member that decodes to `plain_block`; N of them make N MiB.
    gzip_member: Vec<u8>,
    /// One gzip member that decodes to IMAGE_MIB of the OS-image-like body.
    image_member: Vec<u8>,
}

fn make_image_member(file: &[u8]) -> Vec<u8> {
    let mut image = Vec::with_capacity(IMAGE_MIB * BLOCK);
    while image.len() < IMAGE_FILE_MIB * BLOCK && !file.is_empty() {
        let take = file.len().min(IMAGE_FILE_MIB * BLOCK - image.len());
        image.extend_from_slice(&file[..take]);
    }
    image.resize(IMAGE_MIB * BLOCK, 0);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&image).expect("in-memory write");
    encoder.finish().expect("in-memory gzip")
}

fn make_bodies(image_file: &[u8]) -> Bodies {
    // Compressible about 3:1, like an OS image: a pseudo-random byte stream
    // where most bytes repeat the previous one.
    let mut state: u32 = 0x1234_5678;
    let mut plain_block = Vec::with_capacity(BLOCK);
    let mut last = 0u8;
    for _ in 0..BLOCK {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        if state.is_multiple_of(4) {
            last = (state >> 8) as u8;
        }
        plain_block.push(last);
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(&plain_block).expect("in-memory write");
    let gzip_member = encoder.finish().expect("in-memory gzip");
    Bodies {
        plain_block,
        gzip_member,
        image_member: make_image_member(image_file),
    }
}

fn query_mib(target: &str) -> usize {
    target
        .split_once("mib=")
        .and_then(|(_, rest)| rest.split('&').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

async fn serve(mut socket: TcpStream, bodies: Rc<Bodies>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Read one request head (and its body, if any).
        let head_end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let content_length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + content_length {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + content_length);
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let path = target.split('?').next().unwrap_or("/");
        match path {
            "/small" | "/post" => {
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                    SMALL.len(),
                    SMALL
                );
                socket.write_all(response.as_bytes()).await?;
            }
            "/plain" => {
                let n = query_mib(&target);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                    n * BLOCK
                );
                socket.write_all(head.as_bytes()).await?;
                for _ in 0..n {
                    socket.write_all(&bodies.plain_block).await?;
                }
            }
            "/gzip" | "/gzip-image" => {
                let (member, members) = if path == "/gzip" {
                    (&bodies.gzip_member, query_mib(&target))
                } else {
                    (&bodies.image_member, query_mib(&target).div_ceil(IMAGE_MIB))
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Encoding: gzip\r\nX-Transfer-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                    members * member.len()
                );
                socket.write_all(head.as_bytes()).await?;
                // Chunks of at most 1 MiB, as a proxy or file server would send.
                for _ in 0..members {
                    for piece in member.chunks(BLOCK) {
                        socket
                            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                            .await?;
                        socket.write_all(piece).await?;
                        socket.write_all(b"\r\n").await?;
                    }
                }
                socket.write_all(b"0\r\n\r\n").await?;
            }
            _ => {
                socket
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await?;
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let image_file = match std::env::args_os().nth(1) {
            Some(path) => std::fs::read(path)?,
            None => std::fs::read("/proc/self/exe")?,
        };
        let bodies = Rc::new(make_bodies(&image_file));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let identity = tls::make_identity().map_err(std::io::Error::other)?;
        let tls_listener = TcpListener::bind("127.0.0.1:0").await?;
        println!(
            "listening {} tls {} ca {}",
            listener.local_addr()?.port(),
            tls_listener.local_addr()?.port(),
            identity.ca_pem_path.display()
        );
        tokio::task::spawn_local(async move {
            if let Err(e) = tls::serve(tls_listener, identity.acceptor, SMALL).await {
                eprintln!("bench-server: TLS listener failed: {e}");
            }
        });
        loop {
            let (socket, _) = listener.accept().await?;
            let bodies = bodies.clone();
            tokio::task::spawn_local(async move {
                let _ = serve(socket, bodies).await;
            });
        }
    })
}
