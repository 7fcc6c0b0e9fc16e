//! balena-request-native: a drop-in for the npm package `balena-request` with
//! a native engine. `engine` is pure Rust (no N-API), `pipeline` orders the
//! stages of a request, `js` is the thin binding Node sees.
#![deny(clippy::all)]

pub mod engine;
pub mod js;
pub mod pipeline;

/// The tokio runtime the engine runs on, made when the addon loads.
/// `BALENA_REQUEST_NATIVE_THREADS` sets its worker count (default 1: an HTTP
/// client's work is waiting on sockets, and each extra worker mostly adds
/// cross-thread wake-ups). Its threads run at a lower priority than the JS
/// thread, so that decompressing a download on a busy core never makes the
/// event loop wait.
#[napi_derive::module_init]
fn init_runtime() {
    let workers = std::env::var("BALENA_REQUEST_NATIVE_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("balena-request")
        .on_thread_start(lower_thread_priority)
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}

#[cfg(target_os = "linux")]
fn lower_thread_priority() {
    // SAFETY: plain system calls on the calling thread; a failure only
    // leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_thread_priority() {}
