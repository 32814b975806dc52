#!/usr/bin/env python3
"""N clients active at once against pgsplit (issue 18): all connect together, then in each round every
client has one statement in flight at the same time (a read, a write, a read-only transaction, in
turn). Prints one JSON line: clients, failures, latency p50/p99/max per statement, and pgsplit's RSS
(from --pid) idle, with all clients connected, and at its highest during the rounds.

Standard library only; logs in like idle_clients.py (SCRAM, md5, cleartext or trust).
    python3 benchmarks/many_clients.py --port 6432 --user app --password app --dbname app \
        --clients 10000 --rounds 3 --pid PGSPLIT_JVM_PID
"""
import argparse
import asyncio
import json
import os
import resource
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_clients import _connect_one, _msg, _read_msg  # noqa: E402


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def statement(reader, writer, sql, expect):
    """Sends one simple Query and reads to ReadyForQuery; returns an error string or None."""
    writer.write(_msg(b"Q", sql.encode() + b"\0"))
    await writer.drain()
    error = None
    got = None
    while True:
        tag, body = await _read_msg(reader)
        if tag == b"E":
            fields = dict((f[:1].decode(), f[1:].decode(errors="replace")) for f in body.split(b"\0") if f)
            error = f"{fields.get('C')} {fields.get('M')}"
        elif tag == b"D":
            n = struct.unpack("!h", body[:2])[0]
            if n == 1:
                ln = struct.unpack("!i", body[2:6])[0]
                got = body[6:6 + ln].decode()
        elif tag == b"Z":
            break
    if error is None and expect is not None and got != expect:
        error = f"expected {expect}, got {got}"
    return error


async def main_async(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rss_idle = rss_kb(a.pid) if a.pid else 0
    sem = asyncio.Semaphore(a.connect_concurrency)
    failures = []

    async def connect(i):
        async with sem:
            try:
                return await _connect_one(a, i)
            except Exception as e:  # noqa: BLE001
                failures.append(f"connect: {e!r}")
                return None

    t0 = time.monotonic()
    conns = await asyncio.gather(*(connect(i) for i in range(a.clients)))
    t_login = time.monotonic() - t0
    rss_connected = rss_kb(a.pid) if a.pid else 0
    rss_max = rss_connected
    # a table for the writes, through pgsplit
    first = next(c for c in conns if c)
    err = await statement(*first, "CREATE TABLE IF NOT EXISTS many_clients (x int)", None)
    if err:
        failures.append("setup: " + err)
    await statement(*first, "TRUNCATE many_clients", None)
    latencies = []

    async def one(i, conn, rnd):
        if conn is None:
            return
        sql, expect = [(f"SELECT {i}", str(i)), (f"INSERT INTO many_clients VALUES ({i})", None),
                       (f"BEGIN READ ONLY; SELECT {i}; COMMIT", str(i))][rnd % 3]
        start = time.monotonic()
        try:
            e = await statement(*conn, sql, expect)
        except Exception as ex:  # noqa: BLE001
            e = repr(ex)
        latencies.append(time.monotonic() - start)
        if e:
            failures.append(f"client {i} round {rnd}: {e}")

    async def sample():
        nonlocal rss_max
        while True:
            rss_max = max(rss_max, rss_kb(a.pid) if a.pid else 0)
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    t1 = time.monotonic()
    for rnd in range(a.rounds):
        await asyncio.gather(*(one(i, c, rnd) for i, c in enumerate(conns)))
    t_rounds = time.monotonic() - t1
    sampler.cancel()
    writes = None
    try:
        await statement(*first, "SELECT 1", None)
    except Exception:  # noqa: BLE001
        pass
    for c in conns:
        if c:
            c[1].write(_msg(b"X", b""))
            c[1].close()
    latencies.sort()
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1) if latencies else None
    print(json.dumps({
        "clients": a.clients, "connected": sum(1 for c in conns if c), "rounds": a.rounds,
        "statements": len(latencies), "failures": len(failures), "first_failures": failures[:5],
        "login_s": round(t_login, 1), "rounds_s": round(t_rounds, 1),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0),
        "rss_idle_mb": round(rss_idle / 1024, 1), "rss_connected_mb": round(rss_connected / 1024, 1),
        "rss_max_mb": round(rss_max / 1024, 1), "writes_expected": a.clients * sum(1 for r in range(a.rounds) if r % 3 == 1),
    }))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    ap.add_argument("--dbname", default="app")
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connect-concurrency", type=int, default=500)
    ap.add_argument("--pid", type=int, default=0, help="pgsplit's JVM, for RSS")
    a = ap.parse_args()
    sys.exit(asyncio.run(main_async(a)))


if __name__ == "__main__":
    main()
