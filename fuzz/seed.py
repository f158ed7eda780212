#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets from the conformance transcripts.

Usage: python3 fuzz/seed.py [--transcripts DIR] [--out DIR]

Defaults: transcripts from tests/transcripts/, seeds into fuzz/corpus/<target>/
(the corpus directory cargo-fuzz uses; it is git-ignored, seeds are never
committed). Existing files are overwritten, nothing else is removed.

Transcript format: protocol README, "Transcript format". Per connection (a
`# >>> connection ID` section, resumed when the ID reappears) the `C:` lines
become the client byte stream and the `S:` lines the server byte stream, each
line followed by CRLF; after a payload command whose last parameter is a
decimal N > 0 the next file lines, joined with CRLF until exactly N bytes,
are its payload and follow the line's CRLF directly.

Seeds written:
  decoder/      4 header bytes (small max_line, small max_payload, chunk seed
                lo/hi; see fuzz/src/decoder.rs) + a piece of a client or a
                server stream
  ns_parser/    pieces of the client streams of dispatch/notification
                connections
  sb_parser/    pieces of the client streams of switchboard connections
  handle_text/  the distinct parameters of all protocol lines

Streams are cut into pieces of whole frames of at most 512 bytes (a longer
frame is a piece of its own).
"""

import argparse
import hashlib
import re
import sys
from pathlib import Path

CLIENT_PAYLOAD = {"MSG", "QRY", "SDC", "PAG", "UUX", "ADL", "RML", "FQY", "UUN", "UUM"}
SERVER_PAYLOAD = {"MSG", "NOT", "IPG", "UBX", "GCF", "ADL", "RML", "FQY", "UBN", "UBM"}
# Largest seed made of several frames, in bytes.
WINDOW = 512


class Connection:
    def __init__(self, name):
        self.name = name
        # One entry per protocol line: the line, CRLF and its payload.
        self.client = []
        self.server = []


def parse(path):
    """Returns (connections in order of first appearance, protocol lines)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    conns = {}
    current = None
    protocol_lines = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("# >>> connection "):
            name = line[len("# >>> connection "):].split(":", 1)[0].strip()
            current = conns.setdefault(name, Connection(name))
        elif line.startswith("#") or not line.strip():
            continue
        elif line.startswith("C: ") or line.startswith("S: "):
            client = line.startswith("C: ")
            body = line[3:]
            if current is None:
                current = conns.setdefault("default", Connection("default"))
            protocol_lines.append(body)
            frame = bytearray(body.encode("utf-8") + b"\r\n")
            (current.client if client else current.server).append(frame)
            tokens = body.split(" ")
            commands = CLIENT_PAYLOAD if client else SERVER_PAYLOAD
            last = tokens[-1]
            if len(tokens) > 1 and tokens[0] in commands and re.fullmatch(r"[0-9]+", last):
                n = int(last)
                if n > 0:
                    joined = b""
                    first = True
                    while len(joined) < n:
                        if i >= len(lines):
                            sys.exit(f"{path}: payload of {body!r} runs past the end")
                        if not first:
                            joined += b"\r\n"
                        joined += lines[i].encode("utf-8")
                        first = False
                        i += 1
                    if len(joined) != n:
                        sys.exit(f"{path}: payload of {body!r} is {len(joined)} bytes, not {n}")
                    frame += joined
        else:
            sys.exit(f"{path}: unexpected line {line!r}")
    return list(conns.values()), protocol_lines


def windows(frames, size=WINDOW):
    """Consecutive frames grouped into pieces of at most `size` bytes (a
    longer frame is a piece of its own): small seeds run faster and mutate
    better than whole connections."""
    piece = bytearray()
    for frame in frames:
        if piece and len(piece) + len(frame) > size:
            yield bytes(piece)
            piece = bytearray()
        piece += frame
    if piece:
        yield bytes(piece)


def write(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(bytes(data))


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transcripts", type=Path, default=here.parent / "tests" / "transcripts")
    ap.add_argument("--out", type=Path, default=here / "corpus")
    args = ap.parse_args()

    files = sorted(args.transcripts.glob("*.txt"))
    if not files:
        sys.exit(f"no transcripts in {args.transcripts}")
    counts = {}
    tokens = set()

    def emit(target, name, data):
        write(args.out, target, name, data)
        counts[target] = counts.get(target, 0) + 1

    for path in files:
        conns, protocol_lines = parse(path)
        for line in protocol_lines:
            tokens.update(t for t in line.split(" ") if t)
        for k, conn in enumerate(conns):
            stem = f"seed-{path.stem}-{conn.name}"
            for side, frames in (("client", conn.client), ("server", conn.server)):
                for j, piece in enumerate(windows(frames)):
                    # Header: small limits 48/32, a chunk seed per piece.
                    header = bytes([48, 32, k, j & 0xFF])
                    emit("decoder", f"{stem}-{side}-{j:03}", header + piece)
            target = "sb_parser" if "sb" in conn.name else "ns_parser"
            for j, piece in enumerate(windows(conn.client)):
                emit(target, f"{stem}-client-{j:03}", piece)
    for token in sorted(tokens):
        digest = hashlib.sha1(token.encode("utf-8")).hexdigest()[:16]
        emit("handle_text", f"seed-token-{digest}", token.encode("utf-8"))
    for target in sorted(counts):
        print(f"{args.out / target}: {counts[target]} seeds")


if __name__ == "__main__":
    main()
