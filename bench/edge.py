#!/usr/bin/env python3
"""The server's edge under hostile clients: the measurements behind docs/operations.md.

Runs one `pave serve` binary through the findings of issue 13 that concern the listener,
metrics and the admission webhook, scaled to a small machine, and prints one line per figure:

  partial-head   how long a request head trickled a byte per second is held open
  idle-flood     N connections that each send part of a request head and then nothing,
                 under a low open-files limit, held 20 s: /healthz answers during the flood,
                 the server's open files, its RSS at the peak and 5 s after they close
  metrics        RSS and /metrics size after R requests without a scrape, then after M
                 requests with a new method each
  admission      review latency (p50/p99/max over 200) while 4 clients load the catalog
                 (3,000 entities) with a 40 KB repeated-facet GET and full listings

  bench/edge.py --binary /tmp/pave-before [--only admission] [--flood 3000] [--requests 200000]

Compare two binaries by running it twice. Standard library only; Linux (reads /proc).
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def log(*args):
    print(*args, flush=True)


class Server:
    def __init__(self, binary, args, workdir, nofile=None):
        self.workdir = workdir
        env = dict(os.environ)
        env.pop("PAVE_CONFIG", None)
        env["NO_COLOR"] = "1"
        env["PAVE_DATABASE_URL"] = "sqlite://" + os.path.join(workdir, "pave.db")

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(
            [binary, "serve", "--addr", "127.0.0.1:0", "--refresh-interval", "0"] + args,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=limit,
        )
        self.addr = None
        self.admission = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"open https?://([^/]+)/", line)
            if m:
                host, port = m.group(1).rsplit(":", 1)
                self.addr = (host, int(port))
                a = re.search(r"admission webhook at https?://([^/]+)/", line)
                if a:
                    h, p = a.group(1).rsplit(":", 1)
                    self.admission = (h, int(p))
                break
        if not self.addr:
            raise SystemExit("the server did not start")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for _ in self.proc.stderr:
            pass

    def _status_mb(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def rss_mb(self):
        return self._status_mb("VmRSS")

    def peak_rss_mb(self):
        return self._status_mb("VmHWM")

    def open_files(self):
        try:
            return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except OSError:
            return -1

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(addr, method, path, body=None, timeout=30, host=None):
    """One request on a new connection; (status, body) or (None, error)."""
    try:
        with socket.create_connection(addr, timeout=timeout) as s:
            data = (body or "").encode()
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {host or 'localhost'}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            s.sendall(head.encode() + data)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        raw = b"".join(chunks)
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        return status, rest
    except (OSError, ValueError, IndexError) as e:
        return None, str(e)


def wait_ready(server, path="/healthz", timeout=120, ok=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = request(server.addr, "GET", path, timeout=5)
        if status == 200 and (ok is None or ok(body)):
            return
        time.sleep(0.2)
    raise SystemExit(f"{path} not ready")


def partial_head(binary, cap):
    with tempfile.TemporaryDirectory() as d:
        server = Server(binary, [], d)
        try:
            s = socket.create_connection(server.addr)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            s.settimeout(1)
            started = time.time()
            closed = None
            while time.time() - started < cap:
                try:
                    if s.recv(1024) == b"":
                        closed = time.time() - started
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = time.time() - started
                    break
                try:
                    s.sendall(b"a")
                except OSError:
                    closed = time.time() - started
                    break
            held = f"closed after {closed:.1f} s" if closed else f"still open after {cap} s"
            log(f"partial-head: a head trickled at 1 byte/s: {held}")
        finally:
            server.stop()


def idle_flood(binary, count, nofile, hold, clients):
    with tempfile.TemporaryDirectory() as d:
        server = Server(binary, [], d, nofile=nofile)
        try:
            wait_ready(server)
            base_rss, base_files = server.rss_mb(), server.open_files()
            stop = threading.Event()
            probes = {"ok": 0, "failed": 0, "worst": 0.0, "first_fail": None}
            started = time.time()

            def probe():
                while not stop.is_set():
                    t = time.time()
                    status, _ = request(server.addr, "GET", "/healthz", timeout=5)
                    took = time.time() - t
                    probes["worst"] = max(probes["worst"], took)
                    if status == 200:
                        probes["ok"] += 1
                    else:
                        probes["failed"] += 1
                        if probes["first_fail"] is None:
                            probes["first_fail"] = time.time() - started
                    time.sleep(0.2)

            prober = threading.Thread(target=probe)
            prober.start()
            socks, refused, failing = [], 0, 0
            for _ in range(count):
                try:
                    source = (f"127.0.0.{2 + len(socks) % clients}", 0) if clients > 1 else None
                    s = socket.create_connection(server.addr, timeout=0.5, source_address=source)
                    # A request head that never ends, as a slowloris client sends.
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n")
                    socks.append(s)
                    failing = 0
                except OSError:
                    refused += 1
                    failing += 1
                    if failing >= 10:  # the server stopped accepting: its backlog is full
                        refused += count - len(socks) - refused
                        break
            connected_files = server.open_files()
            time.sleep(hold)
            peak_rss, peak_files = server.peak_rss_mb(), server.open_files()
            alive = 0
            for s in socks:
                s.setblocking(False)
                try:
                    alive += s.recv(1) != b""
                except BlockingIOError:
                    alive += 1
                except OSError:
                    pass
            for s in socks:
                s.close()
            held_for = time.time() - started
            time.sleep(5)
            after_rss = server.rss_mb()
            stop.set()
            prober.join()
            log(
                f"idle-flood: {count} idle connections from {clients} address(es) (server open-files limit {nofile}): "
                f"{len(socks)} connected, {refused} failed to connect, {alive} still open after {hold} s; "
                f"server files {base_files} -> {connected_files} after connecting -> {peak_files} after {hold} s; "
                f"/healthz during {held_for:.0f} s: {probes['ok']} ok, {probes['failed']} failed"
                f" (first failure at {probes['first_fail'] and round(probes['first_fail'], 1)} s), worst {probes['worst']:.2f} s; "
                f"RSS {base_rss:.0f} MB, peak {peak_rss:.0f} MB, {after_rss:.0f} MB 5 s after close"
            )
        finally:
            server.stop()


def keepalive_requests(addr, n, method_of, path_of):
    """n requests on kept-alive connections (reconnecting when the server closes)."""
    s = None
    buf = b""
    sent = 0
    while sent < n:
        if s is None:
            s = socket.create_connection(addr, timeout=30)
            buf = b""
        method, path = method_of(sent), path_of(sent)
        try:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            while len(buf) < length:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            buf = buf[length:]
            if re.search(rb"(?i)connection:\s*close", head):
                s.close()
                s = None
        except OSError:
            if s:
                s.close()
            s = None
        sent += 1
    if s:
        s.close()


def parallel(n, clients, fn):
    threads = [threading.Thread(target=fn, args=(n // clients, c)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def metrics(binary, n, m):
    with tempfile.TemporaryDirectory() as d:
        server = Server(binary, [], d)
        try:
            wait_ready(server)
            _, body = request(server.addr, "GET", "/metrics")
            base_rss, base_size = server.rss_mb(), len(body)
            started = time.time()
            parallel(n, 2, lambda k, c: keepalive_requests(server.addr, k, lambda i: "GET", lambda i: "/healthz"))
            took = time.time() - started
            time.sleep(6)
            rss = server.rss_mb()
            _, body = request(server.addr, "GET", "/metrics")
            log(
                f"metrics: {n} GET /healthz in {took:.0f} s without a scrape: RSS {base_rss:.0f} -> {rss:.0f} MB "
                f"(+{rss - base_rss:.0f} MB); /metrics {base_size} -> {len(body)} bytes"
            )
            base_rss = server.rss_mb()
            parallel(m, 2, lambda k, c: keepalive_requests(server.addr, k, lambda i, c=c: f"X{c}M{i}", lambda i: f"/r{i}"))
            time.sleep(6)
            rss = server.rss_mb()
            _, body = request(server.addr, "GET", "/metrics", timeout=120)
            log(
                f"metrics: {m} requests with a new method and path each: RSS {base_rss:.0f} -> {rss:.0f} MB "
                f"(+{rss - base_rss:.0f} MB); /metrics {len(body) / 1e6:.2f} MB"
            )
        finally:
            server.stop()


def write_catalog(root, n):
    os.makedirs(root, exist_ok=True)
    targets = []
    for f in range(0, n, 500):
        docs = []
        for i in range(f, min(f + 500, n)):
            docs.append(
                f"---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i}\n"
                f"  description: service number {i}\n  tags: [t{i % 13}, t{i % 7}]\nspec:\n"
                f"  type: {['service', 'website', 'library'][i % 3]}\n  lifecycle: production\n"
                f"  owner: team-{i % 40}\n  system: sys-{i % 60}\n"
            )
        name = f"components-{f // 500}.yaml"
        with open(os.path.join(root, name), "w") as out:
            out.write("".join(docs))
        targets.append(f"./{name}")
    path = os.path.join(root, "catalog-info.yaml")
    with open(path, "w") as out:
        out.write(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: big\n"
            f"spec:\n  targets: {json.dumps(targets)}\n"
        )
    return path


REVIEW = json.dumps({
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {"uid": "u", "operation": "CREATE", "namespace": "shop",
                "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "object": {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "web", "namespace": "shop"},
                           "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                               "metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}}})


def admission(binary, entities, own_listener):
    with tempfile.TemporaryDirectory() as d:
        catalog = write_catalog(os.path.join(d, "catalog"), entities)
        args = ["--source", catalog]
        if own_listener:
            args += ["--admission-addr", "127.0.0.1:0"]
        server = Server(binary, args, d)
        try:
            wait_ready(server, f"/api/catalog/entities?filter=metadata.name=svc-{entities - 1}",
                       ok=lambda b: b"svc-" in b)
            facet = "&".join(["facet=metadata.name"] * 2000)  # about 40 KB
            heavy = [f"/api/catalog/entity-facets?{facet}", "/api/catalog/entities"]
            stop = threading.Event()
            served = {"n": 0, "statuses": {}}

            def load(path):
                while not stop.is_set():
                    status, _ = request(server.addr, "GET", path, timeout=120)
                    served["n"] += 1
                    served["statuses"][status] = served["statuses"].get(status, 0) + 1

            loaders = [threading.Thread(target=load, args=(heavy[i % 2],)) for i in range(4)]
            for t in loaders:
                t.start()
            time.sleep(1)
            target = server.admission or server.addr
            times, bad = [], 0
            reviews_started, served_before = time.time(), served["n"]
            for _ in range(200):
                t = time.time()
                status, _ = request(target, "POST", "/api/admission/validate", REVIEW, timeout=60)
                times.append(time.time() - t)
                bad += status != 200
                time.sleep(0.05)  # spread the reviews over the load (10 s or more)
            review_time = time.time() - reviews_started
            during = served["n"] - served_before
            stop.set()
            for t in loaders:
                t.join()
            times.sort()
            p = lambda q: times[min(len(times) - 1, int(len(times) * q))] * 1000
            where = "its own listener" if server.admission and server.admission != server.addr else "the main listener"
            log(
                f"admission: 200 reviews, one per 50 ms, on {where} under catalog load ({entities} entities, 4 clients) "
                f"in {review_time:.1f} s: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {times[-1] * 1000:.1f} ms, {bad} not 200; "
                f"{during} heavy catalog requests answered meanwhile"
            )
        finally:
            server.stop()


def main():
    # A timeout or Ctrl-C still stops the server under test (the `finally` blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/pave")
    ap.add_argument("--only", choices=["partial-head", "idle-flood", "metrics", "admission"])
    ap.add_argument("--hold", type=int, default=60, help="longest wait for the partial head (s)")
    ap.add_argument("--flood", type=int, default=3000)
    ap.add_argument("--hold-flood", type=int, default=20, help="how long the flood is held (s)")
    ap.add_argument("--flood-clients", type=int, default=1, help="client addresses (127.0.0.2…) the flood comes from")
    ap.add_argument("--nofile", type=int, default=2048, help="the server's open-files limit in the flood")
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--methods", type=int, default=50000, help="requests with a new method each")
    ap.add_argument("--entities", type=int, default=3000)
    a = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000)) if resource.getrlimit(resource.RLIMIT_NOFILE)[1] >= 20000 else None
    binary = shutil.which(a.binary) or os.path.abspath(a.binary)
    has_admission_addr = "--admission-addr" in subprocess.run(
        [binary, "serve", "--help"], capture_output=True, text=True).stdout
    run = lambda name: a.only in (None, name)
    if run("partial-head"):
        partial_head(binary, a.hold)
    if run("idle-flood"):
        idle_flood(binary, a.flood, a.nofile, a.hold_flood, a.flood_clients)
    if run("metrics"):
        metrics(binary, a.requests, a.methods)
    if run("admission"):
        admission(binary, a.entities, False)
        if has_admission_addr:
            admission(binary, a.entities, True)


if __name__ == "__main__":
    sys.exit(main())
