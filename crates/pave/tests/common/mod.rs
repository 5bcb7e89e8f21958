//! Helpers for tests that run the `pave` binary.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `pave serve` of the binary under test.
pub struct Server;

impl Server {
    pub fn start(args: &[&str], db: &str) -> pave_testkit::Server {
        pave_testkit::Server::start(Path::new(env!("CARGO_BIN_EXE_pave")), args, db, false)
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], db: &str, env: &[(&str, &Path)]) -> pave_testkit::Server {
        pave_testkit::Server::start_with_env(
            Path::new(env!("CARGO_BIN_EXE_pave")),
            args,
            db,
            false,
            env,
        )
    }
}

pub fn pave() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pave"));
    cmd.env_remove("PAVE_DATABASE_URL")
        .env_remove("PAVE_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

pub fn run(args: &[&str], db: &str) -> Output {
    pave()
        .args(args)
        .env("PAVE_DATABASE_URL", db)
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn component(name: &str, owner: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n{extra}"
    )
}

/// Writes `<dir>/pave.yaml` allowing API registrations of paths under `dir`
/// (`catalog.reading.fileRoots`), and returns its path.
pub fn file_roots_config(dir: &Path) -> PathBuf {
    let config = dir.join("pave.yaml");
    std::fs::write(
        &config,
        format!(
            "catalog:\n  reading:\n    fileRoots: ['{}']\n",
            dir.display()
        ),
    )
    .unwrap();
    config
}

/// A small catalog: a group, two components (one depending on the other), an API.
pub fn write_catalog(dir: &Path) -> PathBuf {
    let root = dir.join("catalog");
    std::fs::create_dir_all(root.join("svc")).unwrap();
    std::fs::write(
        root.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: orders-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: \"openapi: 3.0.0\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("svc/catalog-info.yaml"),
        format!(
            "{}---\n{}",
            component(
                "orders",
                "team-a",
                "  providesApis: [orders-api]\n  dependsOn: ['component:billing']\n"
            ),
            component("billing", "team-a", "")
        ),
    )
    .unwrap();
    root
}

/// A POST whose answer's status is `None` when the server is gone (refused, reset, cut off).
pub fn try_post(addr: std::net::SocketAddr, path: &str, body: &str) -> Option<u16> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let head = String::from_utf8_lossy(&raw);
    head.lines().next()?.split(' ').nth(1)?.parse().ok()
}

/// The targets of the registered locations, sorted.
pub fn location_targets(server: &pave_testkit::Server) -> Vec<String> {
    let mut targets: Vec<String> = server
        .get("/api/catalog/locations")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["data"]["target"].as_str().unwrap().to_owned())
        .collect();
    targets.sort();
    targets
}
