//! Faults an operator meets: PostgreSQL crashing and coming back under load. pave must keep
//! serving reads from memory, say in `/readyz` that the database is gone, refuse writes
//! clearly meanwhile, reconnect by itself, and lose no acknowledged write.
//!
//! The test runs a PostgreSQL server of its own (Debian's `initdb` and `pg_ctl`, as the
//! `postgres` user), so that stopping it disturbs no other test.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, component};
use serde_json::json;

/// PostgreSQL's server programs, where Debian puts them.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// A PostgreSQL server in a temporary folder, stopped when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let bin = pg_bin()?;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // initdb refuses to run as root; the server runs as `postgres`.
        let as_postgres = is_root();
        if as_postgres {
            Command::new("chown")
                .args(["-R", "postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        let initdb = pg.bin.join("initdb");
        let data = pg.data.to_str().unwrap();
        let status = pg
            .command(
                &initdb,
                &["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
            )
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        pg.ctl(&["start"]);
        Some(pg)
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    fn ctl(&self, action: &[&str]) {
        let socket_dir = self.data.parent().unwrap().to_str().unwrap().to_owned();
        let options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port
        );
        let mut args = vec!["-D", self.data.to_str().unwrap(), "-w", "-t", "30"];
        args.extend_from_slice(action);
        if action[0] == "start" {
            args.extend(["-o", options.as_str()]);
        }
        let status = self
            .command(&self.bin.join("pg_ctl"), &args)
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {action:?} failed");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command(
                &self.bin.join("pg_ctl"),
                &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"],
            )
            .status();
    }
}

fn is_root() -> bool {
    // No libc call needed: root's home and `id -u` agree; `id` is in coreutils.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn postgres_crashing_under_load_loses_no_acknowledged_write() {
    let Some(pg) = PrivatePostgres::start().or_else(|| {
        assert!(
            !pave_testkit::on_ci(),
            "PostgreSQL's initdb and pg_ctl are needed (Debian's postgresql package)"
        );
        None
    }) else {
        eprintln!("skipped: no initdb/pg_ctl");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = common::file_roots_config(dir.path());
    let root = dir.path().join("sources");
    std::fs::create_dir_all(&root).unwrap();
    let targets: Arc<Vec<String>> = Arc::new(
        (0..3_000)
            .map(|i| {
                let file = root.join(format!("c{i}.yaml"));
                std::fs::write(&file, component(&format!("c{i}"), "team-a", "")).unwrap();
                file.display().to_string()
            })
            .collect(),
    );
    let server = Server::start(&["--config", config.to_str().unwrap()], &pg.url());
    server.wait_for("/readyz", |r| r.status == 200);
    let addr = server.addr;

    // Writers register locations one after another; readers read the catalog.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(Mutex::new(Vec::<u16>::new()));
    let reads_failed = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let (targets, acknowledged, refused, done, next) = (
                Arc::clone(&targets),
                Arc::clone(&acknowledged),
                Arc::clone(&refused),
                Arc::clone(&done),
                Arc::clone(&next),
            );
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let Some(target) = targets.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        return;
                    };
                    let body = json!({"type": "file", "target": target}).to_string();
                    match common::try_post(addr, "/api/catalog/locations", &body) {
                        Some(201) => acknowledged.lock().unwrap().push(target.clone()),
                        Some(status) => {
                            refused.lock().unwrap().push(status);
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        None => panic!("pave gave no answer to a write"),
                    }
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (done, reads_failed) = (Arc::clone(&done), Arc::clone(&reads_failed));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let r = pave_testkit::http(
                        addr,
                        "GET",
                        "/api/catalog/entities?filter=kind=group",
                        None,
                    );
                    if r.status != 200 {
                        reads_failed.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    let acked = |n: usize| acknowledged.lock().unwrap().len() >= n;
    let started = Instant::now();
    while !acked(50) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no writes went through"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The crash: no shutdown checkpoint, in-flight transactions gone.
    pg.ctl(&["-m", "immediate", "stop"]);
    let down_since = Instant::now();
    let ready = server.wait_for_within("/readyz", Duration::from_secs(15), |r| {
        r.body.contains("database unavailable")
    });
    assert_eq!(ready.status, 200, "reads go on from memory");
    let metrics = server.get("/metrics").body;
    assert!(metrics.contains("pave_database_up 0"), "{metrics}");
    // Down longer than a write waits for a connection, so writes are refused meanwhile.
    while down_since.elapsed() < Duration::from_secs(7) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let acknowledged_before_restart = acknowledged.lock().unwrap().len();
    let down_for = down_since.elapsed();

    pg.ctl(&["start"]);
    let restarted = Instant::now();
    let before = acknowledged.lock().unwrap().len();
    while acknowledged.lock().unwrap().len() <= before {
        assert!(
            restarted.elapsed() < Duration::from_secs(5),
            "pave did not write again within 5 s of PostgreSQL's restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let reconnected_in = restarted.elapsed();
    server.wait_for_within("/readyz", Duration::from_secs(5), |r| r.body == "ready");
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::Relaxed);
    for thread in writers.into_iter().chain(readers) {
        thread.join().unwrap();
    }

    let refused = refused.lock().unwrap().clone();
    let acknowledged = acknowledged.lock().unwrap().clone();
    eprintln!(
        "{} writes acknowledged ({acknowledged_before_restart} before the restart), {} refused \
         during {down_for:?} down (statuses {:?}), {} reads failed; writing again {reconnected_in:?} \
         after the restart",
        acknowledged.len(),
        refused.len(),
        {
            let mut s = refused.clone();
            s.sort_unstable();
            s.dedup();
            s
        },
        reads_failed.load(Ordering::Relaxed)
    );
    // Writes meanwhile were refused as unavailable, never as a server fault.
    assert!(
        !refused.is_empty() && refused.iter().all(|s| *s == 503),
        "{refused:?}"
    );
    assert_eq!(
        reads_failed.load(Ordering::Relaxed),
        0,
        "reads are served from memory"
    );

    // Every acknowledged registration is in the database, through a fresh server.
    drop(server);
    let server = Server::start(&["--config", config.to_str().unwrap()], &pg.url());
    server.wait_for("/readyz", |r| r.status == 200);
    let present = common::location_targets(&server);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|t| present.binary_search(t).is_err())
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let out = common::run(&["audit", "verify"], &pg.url());
    assert!(out.status.success(), "{}", common::stderr(&out));
}

/// A tmpfs of `size`, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// The SQLite database's disk fills up under writes: each write that cannot be stored is
/// answered 503 (never 500), reads go on, every acknowledged write survives a restart, and
/// the database reads back whole (a backup reads every page; the audit chain verifies).
#[test]
fn a_full_disk_refuses_writes_clearly_and_corrupts_nothing() {
    let Some(disk) = SmallDisk::mount("4m") else {
        assert!(
            !pave_testkit::on_ci(),
            "mounting a small tmpfs needs root (CI runs as root)"
        );
        eprintln!("skipped: cannot mount a tmpfs");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = common::file_roots_config(dir.path());
    let root = dir.path().join("sources");
    std::fs::create_dir_all(&root).unwrap();
    // Each entity carries 40 KB of description, so a few dozen fill the disk.
    let filler = "lorem ipsum dolor sit amet ".repeat(1_500);
    let db_path = disk.path().join("pave.db");
    let db = format!("sqlite://{}", db_path.display());
    let server = Server::start(&["--config", config.to_str().unwrap()], &db);
    server.wait_for("/readyz", |r| r.status == 200);

    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for i in 0..400 {
        let file = root.join(format!("c{i}.yaml"));
        std::fs::write(
            &file,
            component(&format!("c{i}"), "team-a", "").replace(
                "metadata:\n",
                &format!("metadata:\n  description: \"{filler}\"\n"),
            ),
        )
        .unwrap();
        let target = file.display().to_string();
        let body = json!({"type": "file", "target": target}).to_string();
        let r = pave_testkit::http(server.addr, "POST", "/api/catalog/locations", Some(&body));
        match r.status {
            201 => acknowledged.push(target),
            status => {
                refused.push((status, r.body));
                if refused.len() >= 5 {
                    break;
                }
            }
        }
    }
    eprintln!(
        "{} writes stored before the disk filled; then {:?}",
        acknowledged.len(),
        refused.iter().map(|(s, _)| *s).collect::<Vec<_>>()
    );
    assert!(acknowledged.len() >= 5, "the disk filled too soon");
    assert!(!refused.is_empty(), "the disk never filled");
    for (status, body) in &refused {
        assert_eq!(*status, 503, "{body}");
        assert!(body.contains("the database is unavailable"), "{body}");
    }
    // Reads go on from memory.
    assert_eq!(server.get("/api/catalog/entities?limit=5").status, 200);
    drop(server);

    let server = Server::start(&["--config", config.to_str().unwrap()], &db);
    server.wait_for("/readyz", |r| r.status == 200);
    let present = common::location_targets(&server);
    for target in &acknowledged {
        assert!(present.contains(target), "acknowledged but lost: {target}");
    }
    drop(server);
    let out = common::run(&["audit", "verify"], &db);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let copy = dir.path().join("copy.db");
    let out = common::run(&["backup", copy.to_str().unwrap()], &db);
    assert!(out.status.success(), "{}", common::stderr(&out));
}
