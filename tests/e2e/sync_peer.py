"""A stand-in for the other director's sync daemon, in a lab namespace: joins the sync
multicast group on `iface`, optionally sends dplb's full_table_request or a crafted sync
message, and prints every datagram it receives, decoded, one JSON object per line.

  sync_peer.py IFACE SECONDS [--syncid N] [--request ID@AFTER] [--send FILE@AFTER]...

(--syncid before --request: the request carries it.)

The decoder follows docs/ha.md ("Session sync wire format"): the 8-byte v1 header, 36-byte
IPv4 records with their options (padding to 4 bytes between records), dplb's 20-byte
control block."""
import json
import socket
import struct
import sys
import time

GROUP, PORT = "224.0.0.81", 8848


def decode(data):
    reserved, syncid, size, nr, version, spare = struct.unpack_from("!BBHBBH", data, 0)
    out = {"syncid": syncid, "size": size, "len": len(data), "version": version, "records": []}
    if nr == 0 and len(data) >= 28 and data[8:12] == b"dplb":
        kind, ver, length, req, nworkers, _, records = struct.unpack_from("!BBHIHHI", data, 12)
        out["control"] = {"kind": kind, "request_id": req, "nworkers": nworkers, "records": records}
        return out
    off = 8
    for i in range(nr):
        if i:
            off = (off + 3) & ~3
        typ, proto, ver_size, flags, state, cport, vport, dport, fwmark, timeout = struct.unpack_from("!BBHIHHHHII", data, off)
        caddr, vaddr, daddr = (socket.inet_ntoa(data[off + 24 + 4 * k: off + 28 + 4 * k]) for k in range(3))
        rec = {"protocol": proto, "flags": flags, "state": state, "cport": cport, "vport": vport, "dport": dport,
               "timeout": timeout, "caddr": caddr, "vaddr": vaddr, "daddr": daddr}
        size_ = ver_size & 0xfff
        o = off + 36
        while o < off + size_:
            t, ln = data[o], data[o + 1]
            if t == 0x61:
                rec["laddr"] = socket.inet_ntoa(data[o + 2:o + 6])
                rec["lport"] = struct.unpack_from("!H", data, o + 6)[0]
            o += 2 + ln
        out["records"].append(rec)
        off += size_
    return out


def control(syncid, kind, request_id, records=0):
    return struct.pack("!BBHBBH", 0, syncid, 28, 0, 1, 0) + b"dplb" + struct.pack("!BBHIHHI", kind, 1, 20, request_id, 1, 0, records)


def main():
    iface, seconds = sys.argv[1], float(sys.argv[2])
    actions = []  # (time, bytes)
    args = sys.argv[3:]
    syncid = 0
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--syncid":
            syncid = int(val)
            continue
        what, after = val.rsplit("@", 1)
        if opt == "--request":
            actions.append((float(after), control(syncid, 1, int(what))))
        elif opt == "--send":
            with open(what, "rb") as f:
                actions.append((float(after), f.read()))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind((GROUP, PORT))
    mreqn = struct.pack("4s4si", socket.inet_aton(GROUP), b"\0" * 4, socket.if_nametoindex(iface))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    s.settimeout(0.05)
    start = time.monotonic()
    print(json.dumps({"ready": True}), flush=True)
    while time.monotonic() - start < seconds:
        now = time.monotonic() - start
        for a in [a for a in actions if a[0] <= now]:
            s.sendto(a[1], (GROUP, PORT))
            actions.remove(a)
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        print(json.dumps(decode(data)), flush=True)


if __name__ == "__main__":
    main()
