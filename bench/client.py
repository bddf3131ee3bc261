"""A minimal keep-alive HTTP/1.1 client for the scenario-5 driver.

Eight moderators driven through httpx cost the bench process about as much CPU as the
server spent answering them (seen with top: both ~60% of a core on a 2-core machine), so
the driver, not the service, set the figure. This client does only what the driver needs:
one connection per moderator, JSON in and out, `Content-Length` bodies (what uvicorn
sends for these routes); anything else is an error, not a silent misread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class Reply:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    def __init__(self, base_url: str, headers: dict[str, str]):
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": url.netloc, **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json_body: Any = None) -> Reply:
        if params:
            path += "?" + urlencode(params)
        body = json.dumps(json_body).encode() if json_body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}Content-Length: {len(body)}\r\n"
        if json_body is not None:
            head += "Content-Type: application/json\r\n"
        for attempt in (1, 2):  # the server may have closed an idle keep-alive connection
            if self.writer is None or self.writer.is_closing():
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(head.encode() + b"\r\n" + body)
                return await self._read()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer.close()
                self.writer = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _read(self) -> Reply:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise RuntimeError(f"bench client: unsupported transfer-encoding {value.strip()}")
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close and self.writer is not None:
            self.writer.close()
            self.writer = None
        return Reply(status, body)
