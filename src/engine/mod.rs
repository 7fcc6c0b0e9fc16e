//! The pure engine: everything that turns plain request data into bytes on the
//! wire and bytes from the wire into plain response data. Nothing in here knows
//! about JavaScript or N-API, so all of it is exercised by `cargo test`.

pub mod body_format;
pub mod decode;
pub mod download;
pub mod error_message;
pub mod gzip_frame;
pub mod latin1;
pub mod net_error;
pub mod new_connection;
pub mod progress;
pub mod proxy;
pub mod qs;
pub mod read_ahead;
pub mod received_bytes;
pub mod records;
pub mod redirect;
pub mod request_headers;
pub mod resume;
pub mod stale_connection;
pub mod tls;
pub mod transport;
pub mod upload;
pub mod url;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_server;
