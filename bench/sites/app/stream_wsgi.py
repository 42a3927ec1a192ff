# WSGI app of bench/stream.sh: a download produced block by block by a generator,
# run inline (no offload). Query: bytes=N (default 1 GiB), block=N (default 64 KiB),
# chunked=1 to leave out Content-Length (the server then sends it chunked).
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    total = int(q.get("bytes", [1 << 30])[0])
    block = int(q.get("block", [64 << 10])[0])
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("chunked", ["0"])[0] != "1":
        headers.append(("Content-Length", str(total)))
    start_response("200 OK", headers)
    return blocks(total, block)


def blocks(total, block):
    data = b"x" * block
    full, rest = divmod(total, block)
    for _ in range(full):
        yield data
    if rest:
        yield data[:rest]
