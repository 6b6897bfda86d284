"""papermill's nbclient engine, with nbclient's Output-widget mimic kept from writing to the kernel.

nbclient stands in for a front end's ``ipywidgets.Output``: every output captured by such a widget is
stored in the widget's state and the state is sent back to the kernel, on the shell channel, from the task
that reads IOPub, while another task waits on that same shell socket for the cell's ``execute_reply``.
Sometimes that reply is then never seen and papermill waits forever on an idle kernel
(jupyter/nbclient#312). Measured here: a notebook printing 200 times into an Output widget hung 3 of 26
runs with papermill's default engine (ours: 0 of 34); 07_teaching's slider panel hung ``make reproduce`` and the test
suite. The kernel never needs that echo (no front end reads it back), so this engine keeps the mimic,
which records what each Output widget shows in the executed notebook, and drops only the send.

Kernels talk to the client over Unix sockets (``ipc``) where the system has them, not TCP: a TCP port is
picked free by the client and bound later by the kernel, and two kernels started at once (``make
reproduce`` runs notebooks side by side) can pick the same one ("Address already in use"; seen in the
test suite). A socket file named after a fresh id cannot collide.

The client's sockets queue without bound (ZeroMQ's receive high-water mark 0 instead of 1,000 messages). A
cell that writes into an Output widget sends four messages a line; while the client is starved of CPU (two
kernels and a training run on 2 cores), a bounded queue fills and ZeroMQ drops what comes next, silently: a
lost "idle" status fails the cell after ``iopub_timeout`` (seen once in a clean-clone test suite), a lost
widget update fails it with ``IndexError: pop from empty list`` (2 of 3 notebooks printing 20,000 lines,
run 3 at a time), and a lost output is simply missing from the executed notebook. Reading everything is the
client's job, and the kernel's: where the kernel is this interpreter's ipykernel, it starts through
:mod:`amidlib.repro.kernel_launcher`, whose IOPub socket has no high-water mark either. Only both together held
(notebooks printing 20,000 lines into a widget, 3 at a time: with neither 2 and 3 of 3 failed, with the
client's queue alone 1 of 3).

    papermill.execute_notebook(..., engine_name=ENGINE)   # after importing this module
"""
from __future__ import annotations

import os
import sys
import tempfile
import uuid

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient.output_widget import OutputWidget
from papermill import engines as _engines
from papermill.clientwrap import PapermillNotebookClient
from papermill.utils import merge_kwargs, remove_args

__all__ = ["ENGINE", "QuietOutputWidget", "UnboundedKernelClient", "ReproNotebookClient", "ReproEngine"]

#: the name this engine is registered under with papermill
ENGINE = "amid-repro"
#: seconds a kernel may take to start: papermill's 60 s is short on 2 cores starting two kernels beside a
#: training run (a kernel that never starts still fails, after this long)
MIN_START_TIMEOUT = 180
#: the names a kernelspec may give this interpreter by (jupyter_client.KernelManager.format_kernel_cmd)
_THIS_PYTHON = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


class QuietOutputWidget(OutputWidget):
    """nbclient's Output-widget mimic that never writes to the kernel's shell channel."""

    def sync_state(self) -> None:
        pass  # the echo to the kernel is what races with waiting for execute_reply; nothing reads it


class UnboundedKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client whose sockets never drop a message (the module doc)."""

    def _context_default(self) -> zmq.asyncio.Context:
        self._created_context = True  # so the client closes it, as it does the default one
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RCVHWM, 0)  # a default for every socket made after: 0 is "no limit"
        return context


class ReproNotebookClient(PapermillNotebookClient):
    """papermill's notebook client with :class:`QuietOutputWidget` for ``ipywidgets.Output``, kernels that lose
    no message (:class:`UnboundedKernelClient`, :mod:`amidlib.repro.kernel_launcher`) and Unix sockets."""

    def __init__(self, *args, **kwargs):
        # one stdout output per cell, with carriage returns applied: a kernel may flush ``print``'s text and
        # its newline separately (seen in CI), and progress lines would otherwise pile up in the notebook
        kwargs.setdefault("coalesce_streams", True)
        # after a cell's execute_reply, the rest of its output may still be queued on IOPub: nbclient waits 4 s
        # for it and papermill then fails the cell; a loaded 2-core machine (two kernels, a widget cell printing
        # 200 times) ran past 4 s in 2 of 4 runs here, so wait up to a minute (a finished cell, not a hang)
        kwargs.setdefault("iopub_timeout", 60)
        super().__init__(*args, **kwargs)
        self.widget_registry = {"@jupyter-widgets/output": {"OutputModel": QuietOutputWidget}}

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.client_factory = UnboundedKernelClient
        argv = km.kernel_spec.argv if km.kernel_spec else []  # no kernel named: starting it fails as before
        # a kernel of this very interpreter (the one amidlib is installed in) starts through our launcher; a
        # bare "python" is this interpreter too (jupyter_client starts it as sys.executable)
        if "ipykernel_launcher" in argv and (argv[0] in _THIS_PYTHON
                                             or os.path.abspath(argv[0]) == os.path.abspath(sys.executable)):
            argv[argv.index("ipykernel_launcher")] = "amidlib.repro.kernel_launcher"
        if os.name == "posix":  # Unix sockets: no port to race for (the module doc); removed at shutdown
            km.transport = "ipc"
            km.ip = os.path.join(tempfile.gettempdir(), f"amid-kernel-{uuid.uuid4().hex[:12]}")
        return km


class ReproEngine(_engines.NBClientEngine):
    """:class:`papermill.engines.NBClientEngine` running :class:`ReproNotebookClient` (same arguments)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(safe_kwargs,
                                    timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                                    startup_timeout=max(start_timeout, MIN_START_TIMEOUT), kernel_name=kernel_name,
                                    log=_engines.logger,
                                    log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        return ReproNotebookClient(nb_man, **final_kwargs).execute()


_engines.papermill_engines.register(ENGINE, ReproEngine)
