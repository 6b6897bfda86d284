"""ipykernel's launcher, with a kernel whose IOPub socket queues its messages instead of dropping them.

ZeroMQ drops what a socket would send past its high-water mark (1,000 messages by default), silently. A cell
that prints into an Output widget sends four messages a line, and a kernel in a tight loop outruns a client
that shares 2 cores with other kernels and a training run: the messages past the mark are lost
(:mod:`amidlib.repro.notebook_engine` says what that breaks). With no mark (0) the kernel keeps them until the
client reads them. Our papermill engine starts kernels with this module in place of ``ipykernel_launcher``:

    python -m amidlib.repro.kernel_launcher -f CONNECTION_FILE
"""
from __future__ import annotations

import sys
from pathlib import Path

import zmq
from ipykernel.kernelapp import IPKernelApp


class QueueingKernelApp(IPKernelApp):
    """IPKernelApp whose IOPub socket (and every socket made after it) has no send high-water mark."""

    def init_iopub(self, context: zmq.Context) -> None:
        context.setsockopt(zmq.SNDHWM, 0)  # a default for the sockets the context makes from now on
        super().init_iopub(context)


if __name__ == "__main__":
    # as ipykernel_launcher: the working directory leaves sys.path while the kernel loads (IPython puts it back)
    if sys.path[0] in ("", str(Path.cwd())):
        del sys.path[0]
    QueueingKernelApp.launch_instance()
