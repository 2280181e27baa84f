"""Holds many HTTP connections open at once, from several source addresses, for a bounded
number of rounds: the load of the multi-worker labs.

    concurrent_client.py URL_HOST PORT --sources A,B,C --concurrency 200 --rounds 3 --hold-ms 800

Each round opens `concurrency` connections at once (spread over the source addresses, each
with a kernel-chosen source port), sends `GET /slow?ms=HOLD` on every one, and reads the
answer; every connection is open during the hold, so the dataplane carries them all at the
same time. Prints one JSON object: requests, failures (with their errors, at most 20), the
answers by body, and the most connections seen open at once. Bounded: every connection has a
deadline, and the whole run one of its own.
"""
import argparse
import asyncio
import json
import sys
import time


async def one_request(host, port, source, hold_ms, timeout, state):
    t0 = time.monotonic()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(source, 0)), timeout)
        state["open"] += 1
        state["max_open"] = max(state["max_open"], state["open"])
        writer.write(f"GET /slow?ms={hold_ms} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout - (time.monotonic() - t0))
        state["open"] -= 1
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200"):
            raise RuntimeError(f"bad answer {head[:40]!r}")
        name = body.decode().strip()
        state["bodies"][name] = state["bodies"].get(name, 0) + 1
    except Exception as e:  # noqa: BLE001 - every failure is recorded with its error
        state["failures"] += 1
        if len(state["errors"]) < 20:
            state["errors"].append(f"{source}: {type(e).__name__}: {e}")
    finally:
        if writer is not None:
            writer.close()


async def run(args):
    sources = args.sources.split(",")
    state = {"open": 0, "max_open": 0, "failures": 0, "errors": [], "bodies": {}}
    deadline = time.monotonic() + args.max_seconds
    requests = 0
    for _ in range(args.rounds):
        if time.monotonic() > deadline:
            break
        tasks = [one_request(args.host, args.port, sources[i % len(sources)], args.hold_ms, args.timeout, state)
                 for i in range(args.concurrency)]
        requests += len(tasks)
        await asyncio.gather(*tasks)
        state["open"] = 0
    return {"requests": requests, "failures": state["failures"], "errors": state["errors"],
            "bodies": state["bodies"], "max_open": state["max_open"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--sources", required=True)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hold-ms", type=int, default=800)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    args = ap.parse_args()
    json.dump(asyncio.run(run(args)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
