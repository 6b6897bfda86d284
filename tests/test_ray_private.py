"""The private one-machine Ray instance (``executors.connect()`` with no address) stays private.

A Ray cluster runs whatever code its clients send, so the instance that ``--executor ray`` starts on
one machine must not be reachable from others: every socket its processes listen on (gcs_server,
raylet, workers, this driver, the agents, metrics exporters) is on the loopback address. Ray 2.60's
default is all interfaces (``*:<port>``, ``0.0.0.0``) and the machine's address.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="executor 'ray' needs Ray (make setup installs it)")
psutil = pytest.importorskip("psutil")
if not Path("/proc/net/tcp").is_file():  # pragma: no cover
    pytest.skip("lists the listening sockets of Ray's processes (Linux)", allow_module_level=True)

from amidlib.repro import executors  # noqa: E402


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or addr).is_loopback


def _listening(pids: dict) -> list[tuple[str, int, str]]:
    """(ip, port, process) of every TCP socket in LISTEN state that one of ``pids`` holds."""
    out = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.append((conn.laddr.ip, conn.laddr.port, pids[conn.pid]))
    return out


def test_the_private_ray_instance_listens_on_loopback_only():
    if ray.is_initialized():
        ray.shutdown()
    executors.connect(None, num_cpus=1)
    try:
        node_ip = ray.util.get_node_ip_address()
        def pid():  # nested: sent to the worker by value (the worker cannot import this test module)
            return os.getpid()

        worker_pid = ray.get(ray.remote(pid).remote())  # a worker process, with its own gRPC server
        me = psutil.Process()
        pids = {}
        for proc in [me, *me.children(recursive=True)]:  # the driver started gcs, raylet, agents, workers
            try:
                # the whole command line: a clone in a long path must not cut "gcs_server" off the name
                pids[proc.pid] = f"{proc.name()} {' '.join(proc.cmdline())}"
            except psutil.Error:
                continue
        sockets = _listening(pids)
    finally:
        ray.shutdown()
    listed = "\n".join(f"  {ip}:{port}  {name[:120]}" for ip, port, name in sockets)
    # the check sees Ray's own servers (else it would pass on nothing)
    assert any("gcs_server" in name for *_, name in sockets), listed
    assert any("raylet" in name for *_, name in sockets), listed
    assert worker_pid in pids and any(pids[worker_pid] == name for *_, name in sockets), listed
    public = [(ip, port, name) for ip, port, name in sockets if not _loopback(ip)]
    assert not public, "Ray listens beyond the loopback address:\n" + listed
    assert node_ip == "127.0.0.1"  # the address the node announces (and its workers report)


def test_a_private_instance_on_another_address_is_stopped(monkeypatch):
    """Where Ray would take the machine's address after all, connect() shuts it down and says so."""
    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(("init", kw["_node_ip_address"])))
    monkeypatch.setattr(ray, "shutdown", lambda: calls.append(("shutdown", None)))
    monkeypatch.setattr(ray.util, "get_node_ip_address", lambda: "192.0.2.7")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(RuntimeError, match=r"came up on 192\.0\.2\.7.*shut down"):
        executors.connect(None, num_cpus=1)
    assert calls == [("init", "127.0.0.1"), ("shutdown", None)]
