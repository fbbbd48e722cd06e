"""Servers the tests start (JupyterLab, JupyterHub, Formgrader, an LTI platform): a free port, waiting for an answer."""

import socket
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(url, process, read_log, seconds):
    """Poll ``url`` until it answers with a success; RuntimeError with the tail of ``read_log()``
    (the server's output) as soon as ``process`` exits, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{read_log()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds} s:\n{read_log()[-4000:]}")
