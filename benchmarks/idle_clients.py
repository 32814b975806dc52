#!/usr/bin/env python3
"""Open N idle PostgreSQL client connections and keep them open.

Used by benchmarks/run.sh for the "memory at scale" case: every connection
sends a v3 StartupMessage, authenticates (trust, cleartext, MD5 or
SCRAM-SHA-256), waits for ReadyForQuery and then idles until this process
gets SIGTERM/SIGINT or its stdin is closed.

Standard library only (no pip packages).  Prints progress to stderr and one
line "READY <established> <failed>" to stdout once every connection attempt
has finished, then one line "CLOSED" when it shuts down.

Example:
    python3 benchmarks/idle_clients.py --port 6433 --user bench \
        --password bench --dbname bench --count 10000
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import resource
import signal
import struct
import sys

_salted_cache = {}


def _msg(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("!I", len(payload) + 4) + payload


def _startup(user: str, dbname: str, appname: str) -> bytes:
    body = struct.pack("!I", 196608)
    for k, v in (("user", user), ("database", dbname), ("application_name", appname)):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


async def _read_msg(reader):
    head = await reader.readexactly(5)
    tag, length = head[:1], struct.unpack("!I", head[1:])[0]
    return tag, await reader.readexactly(length - 4)


class Scram:
    def __init__(self, user, password):
        self.password = password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = "n=,r=" + self.cnonce
        self.server_sig = None

    def first(self) -> bytes:
        mech = b"SCRAM-SHA-256\0"
        data = ("n,," + self.first_bare).encode()
        return _msg(b"p", mech + struct.pack("!I", len(data)) + data)

    def final(self, server_first: bytes) -> bytes:
        attrs = dict(kv.split("=", 1) for kv in server_first.decode().split(","))
        nonce, salt, iters = attrs["r"], attrs["s"], int(attrs["i"])
        if not nonce.startswith(self.cnonce):
            raise RuntimeError("SCRAM: bad server nonce")
        key = (self.password, salt, iters)
        salted = _salted_cache.get(key)
        if salted is None:
            salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                         base64.b64decode(salt), iters)
            _salted_cache[key] = salted
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + nonce
        auth_msg = ",".join([self.first_bare, server_first.decode(), without_proof]).encode()
        client_sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.server_sig = hmac.new(server_key, auth_msg, hashlib.sha256).digest()
        final = without_proof + ",p=" + base64.b64encode(proof).decode()
        return _msg(b"p", final.encode())


async def _connect_one(args, idx):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    writer.write(_startup(args.user, args.dbname, "idle_clients"))
    await writer.drain()
    scram = None
    while True:
        tag, body = await _read_msg(reader)
        if tag == b"R":
            code = struct.unpack("!I", body[:4])[0]
            if code == 0:
                continue
            if code == 3:
                writer.write(_msg(b"p", args.password.encode() + b"\0"))
            elif code == 5:
                inner = hashlib.md5((args.password + args.user).encode()).hexdigest()
                outer = hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                writer.write(_msg(b"p", b"md5" + outer.encode() + b"\0"))
            elif code == 10:
                scram = Scram(args.user, args.password)
                writer.write(scram.first())
            elif code == 11:
                writer.write(scram.final(body[4:]))
            elif code == 12:
                continue
            else:
                raise RuntimeError(f"unsupported auth request {code}")
            await writer.drain()
        elif tag == b"E":
            fields = dict((f[:1].decode(), f[1:].decode(errors="replace"))
                          for f in body.split(b"\0") if f)
            raise RuntimeError(f"server error: {fields.get('S', '')} {fields.get('M', '')}")
        elif tag == b"Z":
            return reader, writer
        # S (ParameterStatus), K (BackendKeyData), N (notice): ignore


async def main_async(args):
    sem = asyncio.Semaphore(args.concurrency)
    conns, errors = [], []

    async def attempt(i):
        async with sem:
            for tryno in range(args.retries + 1):
                try:
                    conns.append(await asyncio.wait_for(_connect_one(args, i), args.timeout))
                    return
                except Exception as e:  # noqa: BLE001 - report any failure
                    if tryno == args.retries:
                        errors.append(f"{type(e).__name__}: {e}")
                    else:
                        await asyncio.sleep(0.2 * (tryno + 1))

    async def progress():
        while True:
            await asyncio.sleep(2)
            print(f"idle_clients: {len(conns)} connected, {len(errors)} failed",
                  file=sys.stderr, flush=True)

    prog = asyncio.ensure_future(progress())
    await asyncio.gather(*(attempt(i) for i in range(args.count)))
    prog.cancel()
    if errors:
        print(f"idle_clients: first error: {errors[0]}", file=sys.stderr, flush=True)
    print(f"READY {len(conns)} {len(errors)}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def watch_stdin():
        if args.watch_stdin:
            await loop.run_in_executor(None, sys.stdin.read)
            stop.set()
    asyncio.ensure_future(watch_stdin())

    async def drain(reader):  # consume NOTICE/ParameterStatus; detect closes
        try:
            while await reader.read(4096):
                pass
        except Exception:  # noqa: BLE001
            pass
    for r, _ in conns:
        asyncio.ensure_future(drain(r))
    await stop.wait()
    for _, w in conns:
        try:
            w.write(_msg(b"X", b""))
            w.close()
        except Exception:  # noqa: BLE001
            pass
    print("CLOSED", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="bench")
    p.add_argument("--password", default=os.environ.get("PGPASSWORD", "bench"))
    p.add_argument("--dbname", default="bench")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=64, help="handshakes in flight")
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per handshake")
    p.add_argument("--watch-stdin", action="store_true", help="exit when stdin reaches EOF")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.count + 256))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
