//! A TCP proxy that breaks requests on the way: put between a station and the county
//! hub, it gives the station's link the faults the test receiver gives the hub's.
//! For `percent` of the requests (a chunk from the client that starts with an HTTP
//! method starts a request) it either drops the connection before the request
//! reaches the hub, or passes the request on and drops the connection when the
//! hub's answer starts to come back: the batch is stored, and the station never
//! hears so.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Faults injected so far.
#[derive(Debug, Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub dropped_before: AtomicU64,
    pub dropped_answers: AtomicU64,
}

pub struct Proxy {
    /// `http://127.0.0.1:PORT`, to give the stations.
    pub url: String,
    pub counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn next(state: &Mutex<u64>) -> u64 {
    let mut s = state.lock().unwrap();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

impl Proxy {
    /// Forwards 127.0.0.1:(a free port) to `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str, percent: u64, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let rng = Arc::new(Mutex::new(seed | 1));
        let upstream = upstream.to_string();
        {
            let (counts, stop) = (counts.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (counts, rng, upstream) =
                                (counts.clone(), rng.clone(), upstream.clone());
                            std::thread::spawn(move || {
                                relay(client, &upstream, percent, &rng, &counts);
                            });
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            });
        }
        Proxy { url, counts, stop }
    }
}

fn relay(client: TcpStream, upstream: &str, percent: u64, rng: &Mutex<u64>, counts: &Counts) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(upstream) else {
        // The hub is down: the station sees a refused request, as it would.
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let cut = Arc::new(AtomicBool::new(false));
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_read, mut c_write) = (server, client);
    let answers = {
        let cut = cut.clone();
        let (c_shut, s_shut) = (c_write.try_clone().unwrap(), s_read.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match s_read.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if cut.load(Ordering::SeqCst) {
                    break;
                }
                if c_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = c_shut.shutdown(Shutdown::Both);
            let _ = s_shut.shutdown(Shutdown::Both);
        })
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match c_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let starts_request = [&b"POST "[..], b"GET "]
            .iter()
            .any(|m| buf[..n].starts_with(m));
        if starts_request {
            counts.requests.fetch_add(1, Ordering::Relaxed);
            if next(rng) % 100 < percent {
                if next(rng).is_multiple_of(2) {
                    counts.dropped_before.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                counts.dropped_answers.fetch_add(1, Ordering::Relaxed);
                cut.store(true, Ordering::SeqCst);
            }
        }
        if s_write.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    if !cut.load(Ordering::SeqCst) {
        let _ = c_read.shutdown(Shutdown::Both);
        let _ = s_write.shutdown(Shutdown::Both);
    }
    let _ = answers.join();
}
