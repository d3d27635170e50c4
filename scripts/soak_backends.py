"""`scripts/soak --backends`: anomalog up on Redis + SecantusDB, kill -9 every
minute, exact counts at the end (see scripts/soak's usage)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SAMPLE_EVERY = 5.0
# A detect lag (age of the oldest pending entry) counted as caught up.
LAG_OK = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def backlog(base):
    """The queue backlog from /api/health, None when it does not answer."""
    try:
        with urllib.request.urlopen(base + "/api/health", timeout=5) as r:
            return json.loads(r.read()).get("queue_backlog")
    except (OSError, ValueError, urllib.error.URLError):
        return None


def oldest_age(base):
    """Age in seconds of the oldest unacknowledged queue entry (/metrics):
    how far detect lags behind ingest. None when it does not answer."""
    try:
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("anomalog_queue_oldest_pending_age_seconds"):
                    return float(line.split()[-1])
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return None


def find(root, given, names):
    if given:
        return given
    for name in names:
        path = os.path.join(root, name)
        if os.path.exists(path):
            return path
    return None


def start_secantus(python, storage, log):
    """Starts SecantusDB on a free port with its data in `storage`; returns
    (process, port). Its stderr goes on to `log` once the port is known."""
    proc = subprocess.Popen(
        [python, "-m", "secantus", "--host", "127.0.0.1", "--port", "0",
         "--storage-path", storage, "--sync-on-commit"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.time() + 60
    for line in proc.stderr:
        log.write(line)
        if "listening on 127.0.0.1:" in line:
            port = int(line.split("listening on 127.0.0.1:")[1].split()[0].strip())
            break
        if time.time() > deadline:
            break
    if port is None:
        proc.kill()
        raise SystemExit("SecantusDB did not start (pip install secantusdb; scripts/test installs it)")

    def drain():
        for line in proc.stderr:
            log.write(line)
    threading.Thread(target=drain, daemon=True).start()
    return proc, port


def wait_up(base, proc, seconds=60):
    deadline = time.time() + seconds
    while backlog(base) is None:
        if proc.poll() is not None or time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop(proc, sig=signal.SIGTERM, wait=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(a, root):
    minutes = a.minutes if a.minutes is not None else 30.0
    binary = find(root, a.bin, ["target/release/anomalog", "target/debug/anomalog"])
    soakgen = find(root, a.soakgen, ["target/release/soakgen", "target/debug/soakgen"])
    if not binary or not soakgen:
        return "no anomalog or soakgen binary: cargo build -p anomalog-cli -p anomalog-bench"
    redis = shutil.which("redis-server")
    if not redis:
        return "redis-server is not installed (scripts/test installs it)"
    python = os.environ.get("ANOMALOG_TEST_PYTHON", "python3")

    tmp = tempfile.mkdtemp(prefix="anomalog-soak-backends-")
    log = open(os.path.join(tmp, "server.log"), "w", buffering=1)
    procs = {}
    failures = []
    try:
        rport = free_port()
        procs["redis"] = subprocess.Popen(
            [redis, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=log, stderr=log)
        procs["mongo"], mport = start_secantus(python, os.path.join(tmp, "mongo"), log)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{rport}/",
                   MONGODB_URI=f"mongodb://127.0.0.1:{mport}/", ANOMALOG_MONGODB_DATABASE="soak")
        env.pop("ANOMALOG_API_KEYS", None)

        def start_server():
            p = subprocess.Popen(
                [binary, "up", "--addr", f"127.0.0.1:{port}", "--data-dir",
                 os.path.join(tmp, "store")], env=env, stdout=log, stderr=log)
            if not wait_up(base, p):
                raise SystemExit(f"anomalog up did not start (log: {tmp}/server.log)")
            return p

        server = start_server()
        total = minutes * 60
        warmup = min(120.0, total / 5)
        acked = os.path.join(tmp, "acked.txt")
        gen_out = open(os.path.join(tmp, "load.json"), "w")
        procs["load"] = subprocess.Popen(
            [soakgen, "load", "--url", base, "--rate", str(a.rate), "--seconds", str(total),
             "--acked", acked], stdout=gen_out, stderr=log)
        print(f"soak --backends: {minutes:g} min, {a.rate:g} events/s offered, kill -9 every "
              f"{a.kill_every:g} s; {binary} on redis-server :{rport} + SecantusDB :{mport}")
        print(f"{'t (s)':>6} {'RSS MiB':>8} {'Secantus':>8} {'backlog':>8} {'kills':>5}", flush=True)
        started = time.time()
        born = started
        kills, downtime = 0, 0.0
        samples = []  # (t, rss, age of the process)
        next_kill = started + a.kill_every
        next_row = started + SAMPLE_EVERY
        # Per kill: the worst detect lag (oldest pending entry's age) until the
        # next kill, and how long after the kill it was back under LAG_OK for
        # good (until the next kill).
        recoveries = []  # [kill time, worst lag, seconds to recover or None]
        while procs["load"].poll() is None:
            time.sleep(1.0)
            now = time.time()
            if server.poll() is not None:
                failures.append(f"anomalog up exited by itself with {server.returncode}")
                break
            if recoveries:
                lag = oldest_age(base)
                r = recoveries[-1]
                if lag is not None:
                    r[1] = max(r[1], lag)
                    if lag > LAG_OK:
                        r[2] = None
                    elif r[2] is None:
                        r[2] = now - r[0]
            if now < next_row:
                continue
            next_row = now + SAMPLE_EVERY
            rss = rss_mib(server.pid)
            b = backlog(base)
            t = now - started
            if rss is not None:
                samples.append((t, rss, now - born))
            print(f"{t:6.0f} {rss or 0:8.1f} {rss_mib(procs['mongo'].pid) or 0:8.1f} "
                  f"{str(b):>8} {kills:5d}", flush=True)
            if now >= next_kill and now - started < total - 10:
                server.kill()  # SIGKILL
                server.wait()
                kills += 1
                down = time.time()
                recoveries.append([down, 0.0, None])
                server = start_server()
                downtime += time.time() - down
                born = time.time()
                next_kill = born + a.kill_every
        for i, (_, worst, back) in enumerate(recoveries, 1):
            back = "not within the run" if back is None else f"{back:.0f} s"
            print(f"kill {i}: detect lag worst {worst:.1f} s, under {LAG_OK:g} s again after {back}")
        procs["load"].wait()
        gen_out.close()
        with open(os.path.join(tmp, "load.json")) as f:
            load = f.read().strip()
        print(f"load: {load}")
        if procs["load"].returncode != 0:
            failures.append("the load generator failed (unexpected statuses)")

        drain_started = time.time()
        last = None
        while time.time() - drain_started < a.drain_seconds:
            last = backlog(base)
            if last == 0:
                break
            time.sleep(1)
        print(f"backlog {last} {time.time() - drain_started:.1f} s after the load "
              f"({kills} kills, {downtime:.1f} s down in all)")
        if last != 0:
            failures.append(f"backlog not drained: {last}")
        verify = subprocess.run(
            [soakgen, "verify", "--mongodb", env["MONGODB_URI"], "--database", "soak",
             "--acked", acked], stdout=subprocess.PIPE, stderr=log, text=True)
        print(f"counts: {verify.stdout.strip()}")
        if verify.returncode != 0:
            failures.append("exact count failed")

        after = [s for s in samples if s[0] >= warmup and s[2] >= 20]
        if after:
            first, peak = after[0][1], max(s[1] for s in after)
            growth = (peak - first) / first * 100 if first else 0.0
            print(f"anomalog RSS after warm-up (processes up >= 20 s): first {first:.1f} MiB, "
                  f"peak {peak:.1f} MiB, growth {growth:.1f}% (limit {a.rss_growth:g}%)")
            if growth > a.rss_growth:
                failures.append(f"RSS grew {growth:.1f}% after warm-up")
        else:
            failures.append("no RSS sample after warm-up (run longer)")
        if kills == 0 and total >= a.kill_every + 20:
            failures.append("anomalog up was never killed")
        stop(server)
    finally:
        for p in procs.values():
            stop(p)
        log.close()
    if failures:
        print(f"FAILED: {'; '.join(failures)} (logs kept in {tmp}/server.log)")
        shutil.rmtree(os.path.join(tmp, "mongo"), ignore_errors=True)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("soak --backends passed")
    return 0
