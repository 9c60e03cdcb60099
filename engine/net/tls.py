"""TLS between machines, with the standard library's `ssl`: servers present a certificate
(--tls-cert, --tls-key), clients check it against a CA file (--tls-ca) and the host name they
connect to; the auth token (--auth-token) still applies, now inside TLS.

    python -m engine.net.tls lab --out lab-certs --host 10.0.0.5 --host gateway.lab

makes a small lab's certificates with the `openssl` command (on macOS and Linux; on Windows
it comes with Git for Windows): a CA (ca.pem, the file every client gets; ca.key stays with
whoever makes certificates) and one server certificate (server.pem, server.key) for the given
names and addresses (127.0.0.1 and localhost are always in it)."""
from __future__ import annotations

import argparse
import ipaddress
import shutil
import ssl
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence


class TlsSetupError(ValueError):
    """A certificate, key or CA file that cannot be used: the message says which and why."""


@lru_cache(maxsize=8)
def server_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot use --tls-cert {cert} with --tls-key {key}: {exc}") \
            from None
    return ctx


@lru_cache(maxsize=8)
def client_context(ca: str) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot use --tls-ca {ca}: {exc}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def for_server(config) -> Optional[ssl.SSLContext]:
    return server_context(config.tls_cert, config.tls_key) if config.tls_cert else None


def for_client(config) -> Optional[ssl.SSLContext]:
    return client_context(config.tls_ca) if config.tls_ca else None


# -- a lab's certificates -------------------------------------------------------------------
def _openssl() -> str:
    exe = shutil.which("openssl")
    if not exe:
        raise TlsSetupError("the `openssl` command is needed to make certificates (macOS and "
                            "Linux have it; on Windows it comes with Git for Windows); or "
                            "use certificates your organisation gives you")
    return exe


def _run(args: List[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=str(cwd), capture_output=True, text=True)
    if done.returncode:
        raise TlsSetupError(f"{' '.join(args[:3])} failed: {done.stderr.strip()[-400:]}")


def subject_names(hosts: Sequence[str]) -> str:
    """The subjectAltName of the server certificate: every host given, and the loopback."""
    names, seen = [], set()
    for h in list(hosts) + ["127.0.0.1", "localhost"]:
        if h in seen:
            continue
        seen.add(h)
        try:
            ipaddress.ip_address(h)
            names.append(f"IP:{h}")
        except ValueError:
            names.append(f"DNS:{h}")
    return ",".join(names)


def make_lab(out, hosts: Sequence[str], days: int = 825) -> dict:
    """A CA and a server certificate signed by it, in `out`; the paths made."""
    exe, out = _openssl(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ext = out / "server.ext"
    ext.write_text(f"subjectAltName={subject_names(hosts)}\nbasicConstraints=CA:FALSE\n"
                   f"keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
                   encoding="utf-8")
    _run([exe, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
          "-out", "ca.pem", "-days", str(days), "-subj", "/CN=IPC Trading Desk lab CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], out)
    _run([exe, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
          "-out", "server.csr", "-subj", "/CN=IPC Trading Desk server"], out)
    _run([exe, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", "server.pem", "-days", str(days),
          "-extfile", "server.ext"], out)
    for tmp in ("server.csr", "server.ext", "ca.srl"):
        (out / tmp).unlink(missing_ok=True)
    return {k: out / f for k, f in (("ca", "ca.pem"), ("ca_key", "ca.key"),
                                    ("cert", "server.pem"), ("key", "server.key"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.net.tls",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="make a CA and a server certificate for a small lab")
    lab.add_argument("--out", required=True, help="folder for ca.pem, server.pem, server.key")
    lab.add_argument("--host", action="append", default=[],
                     help="a name or address clients use to reach the servers (repeat)")
    lab.add_argument("--days", type=int, default=825)
    ns = parser.parse_args(argv)
    try:
        made = make_lab(ns.out, ns.host, ns.days)
    except TlsSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"CA certificate (give it to every client, --tls-ca): {made['ca']}\n"
          f"server certificate and key (--tls-cert, --tls-key): {made['cert']} "
          f"{made['key']}\nthe CA's key (keep it private; it signs certificates): "
          f"{made['ca_key']}\nthe server certificate names: {subject_names(ns.host)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
