//! The sender against a real HTTP server on loopback that answers as told:
//! 429 with Retry-After, refusals with and without dropNonRetryableData, and
//! records dropped for age.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use replication::{Replications, Target};

/// What the remote saw: when, what it answered, the body (gunzipped).
type Seen = Arc<Mutex<Vec<(Instant, u16, String)>>>;

/// A remote answering each request with the next status of `script` (the
/// last one from then on), recording every request.
fn remote(script: Vec<(u16, Option<&'static str>)>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().flatten().enumerate() {
            let (status, retry_after) = script[n.min(script.len() - 1)];
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let mut text = String::new();
            flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
            log.lock().unwrap().push((Instant::now(), status, text));
            let mut out = conn;
            let extra = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
            let msg = r#"{"code":"invalid","message":"refused"}"#;
            let _ = write!(
                out,
                "HTTP/1.1 {status} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{msg}",
                msg.len()
            );
        }
    });
    (url, seen)
}

fn target(url: &str, drop: bool, max_age: i64) -> Target {
    Target {
        name: "r".into(),
        remote_url: url.into(),
        token: "t".into(),
        remote_org_id: "0000000000000001".into(),
        remote_bucket: "b".into(),
        allow_insecure_tls: false,
        drop_non_retryable: drop,
        max_age_secs: max_age,
        max_queue_bytes: 1 << 26,
    }
}

fn wait(secs: u64, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !done() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_waits_as_asked_then_sends() {
    let dir = tempfile::tempdir().unwrap();
    let (url, seen) = remote(vec![(429, Some("1")), (204, None)]);
    let reps = Replications::new(dir.path());
    reps.start(1, 7, target(&url, false, 0)).unwrap();
    reps.enqueue(7, b"m v=1i 1\n").unwrap();
    let s = Arc::clone(&seen);
    tokio::task::spawn_blocking(move || wait(10, || s.lock().unwrap().len() >= 2)).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().map(|(_, s, _)| *s).collect::<Vec<_>>(), [429, 204]);
    assert!(seen[1].0 - seen[0].0 >= Duration::from_millis(900), "Retry-After was not honoured");
    assert_eq!(seen[1].2, "m v=1i 1\n");
    let (_, pending, status) = reps.status(1).unwrap();
    assert_eq!((pending, status.latest_response_code), (0, 204));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_stop_the_queue_unless_dropping_is_allowed_and_old_records_go() {
    let dir = tempfile::tempdir().unwrap();
    let (url, seen) = remote(vec![(400, None)]);
    let reps = Arc::new(Replications::new(dir.path()));
    reps.start(1, 7, target(&url, false, 0)).unwrap();
    reps.enqueue(7, b"m v=1i 1\n").unwrap();
    let r = Arc::clone(&reps);
    tokio::task::spawn_blocking(move || wait(10, || r.status(1).unwrap().2.latest_response_code == 400)).await.unwrap();
    let (_, pending, status) = reps.status(1).unwrap();
    assert!(pending > 0, "a refused batch is kept");
    assert_eq!(status.latest_error, "refused");
    // Too old now: dropped and counted, without sending again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sent_before = seen.lock().unwrap().len();
    reps.update(1, target(&url, false, 1));
    let r = Arc::clone(&reps);
    tokio::task::spawn_blocking(move || wait(10, || r.status(1).unwrap().1 == 0)).await.unwrap();
    let (_, pending, status) = reps.status(1).unwrap();
    assert_eq!((pending, status.dropped_records), (0, 1));
    assert_eq!(seen.lock().unwrap().len(), sent_before);
    // With dropNonRetryableData, a refused batch is dropped and the queue goes on.
    reps.update(1, target(&url, true, 0));
    reps.enqueue(7, b"m v=2i 2\n").unwrap();
    let r = Arc::clone(&reps);
    tokio::task::spawn_blocking(move || wait(10, || r.status(1).unwrap().2.dropped_records == 2)).await.unwrap();
    assert_eq!(reps.status(1).unwrap().1, 0);
}
