"""Start the page's Solara server: the starting scenario and language go to the page in environment
variables.

Everything is checked before the address is printed (`check_start`): the scenario, the host (it must
resolve to an address of this machine) and the port (it must be free). The page binds 127.0.0.1 unless a
host is given; a host that other machines can reach needs `--allow-remote`, prints a warning, and the
server then answers only requests that carry the token printed in the address (`TokenGate`: the address's
`?token=`, then a cookie for the rest of the session). Uploaded scenario files are size-limited and read
as TOML data in memory (`labsim.app.draft.from_upload`), never written to disk."""

from __future__ import annotations

import errno
import hmac
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from labsim.config.errors import LabsimError

EXTRA_HINT = "labsim app needs the app extra: pip install 'labsim[app]'"
COOKIE = "labsim_token"
PAGE = "labsim.app.page"


def check_extra() -> None:
    """One line saying how to get the extra, if Solara or Mesa's visualisation is missing."""
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
        import tomli_w  # noqa: F401
    except ImportError:
        raise LabsimError(EXTRA_HINT) from None


@dataclass(frozen=True)
class Start:
    """What the server starts with, once checked: the port (a free one if 0 was asked for), the token
    (None on this machine only) and the address to print."""

    host: str
    port: int
    token: str | None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")


def _addresses(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        what = err.strerror if isinstance(err, socket.gaierror) else "not a host name"
        raise LabsimError(f"--host {host}: not an address or a host name this machine resolves ({what})") from None


def check_start(scenario: Path, host: str, port: int, allow_remote: bool) -> Start:
    """Check the scenario, the host and the port, in that order; one line naming the problem."""
    from labsim.app.draft import from_file

    from_file(scenario)  # a bad scenario stops here with its one-line error
    found = _addresses(host, port)
    local = all(ipaddress.ip_address(a[4][0].split("%")[0]).is_loopback for a in found)
    if not local and not allow_remote:
        raise LabsimError(f"--host {host} serves the page beyond this machine: anyone who can reach it could "
                          "run simulations and upload files; add --allow-remote if that is meant")
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            probe.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise LabsimError(f"--port {port}: already in use on {host}; choose another --port") from None
            if err.errno == errno.EACCES:
                raise LabsimError(f"--port {port}: not allowed for this user; choose a port above 1023") from None
            raise LabsimError(f"--host {host}: cannot serve there ({err.strerror})") from None
        port = probe.getsockname()[1]  # the free port the system chose, when 0 was asked for
    return Start(host, port, None if local else secrets.token_urlsafe(32))


class TokenGate:
    """ASGI middleware: requests (and the page's websocket) pass with the token in the address or in
    the cookie the first such request sets; anything else gets 403."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = token

    def _ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token.encode())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is no token
                    pass
        held = cookies[COOKIE].value if COOKIE in cookies else None
        if self._ok(held):
            await self.app(scope, receive, send)
        elif self._ok(given):
            async def with_cookie(message) -> None:
                if message["type"] == "http.response.start":
                    cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
                await send(message)

            await self.app(scope, receive, with_cookie if scope["type"] == "http" else send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = b"labsim app: open the address with the token that `labsim app` printed\n"
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


def run_server(scenario: Path, lang: str, host: str, port: int, token: str | None) -> int:
    """Run the server until stopped (Ctrl-C, SIGTERM: the command line turns them into 130 and 143)."""
    os.environ["LABSIM_APP_SCENARIO"] = str(scenario)
    os.environ["LABSIM_APP_LANG"] = lang
    from solara.__main__ import cli

    if token is not None:
        os.environ["SOLARA_APP"] = PAGE  # read when Solara's server is imported (as `solara run` sets it)
        from solara.server.starlette import app

        app.add_middleware(TokenGate, token=token)
    args = ["run", PAGE, "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version",
            "--log-level", "warning", "--log-level-uvicorn", "warning"]
    cli.main(args, standalone_mode=False)
    return 0
