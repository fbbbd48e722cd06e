"""A person using the course hub over HTTP, as their browser would: log in with their password on
the hub's login page, start their server, then call their server's (or a service's) API."""

import os
import time
from pathlib import Path
from urllib.parse import quote

import nbformat
import requests
import sympy as sp

from course_utils import variants
from course_utils.instructor.demo import answer_like
from course_utils.instructor.hub import LAYOUT, REPO

ASSIGNMENT, NOTEBOOK = "ps1", "problem_set_1"  # the assignment the hub tests take through a term
ANSWERS = {"alice": "reference", "bob": "partly-wrong", "carol": "blank"}  # student -> examples/ps1 folder
ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", "/tmp/course-test-artifacts")) / "hub"  # logs, screenshots


def printed_function(student):
    """What ps1's locked first cell prints for ``student`` (the grader's side of the variant)."""
    c = variants.choice("1.1", [3, 6, 9, 12], sid=student)
    x, y = sp.symbols("x y", real=True)
    return f"your function: f(x, y) = {x**2 * y + x * y**2 - c * x * y}"


class Person:
    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.server = f"{hub.url}/user/{quote(name)}"

    def log_in(self):
        """The hub's login form (PAM: the Unix account's password)."""
        self.http.get(f"{self.hub.url}/hub/login").raise_for_status()
        form = {"username": self.name, "password": self.hub.passwords[self.name], "_xsrf": self._xsrf("/hub/")}
        reply = self.http.post(f"{self.hub.url}/hub/login?next=", data=form, allow_redirects=False)
        assert reply.status_code == 302, f"{self.name} could not log in: {reply.status_code} {reply.text[:300]}"
        return self

    def _xsrf(self, path):
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and cookie.path.rstrip("/") == path.rstrip("/"):
                return cookie.value
        return ""

    def hub_api(self, method, path, **kwargs):
        headers = {"X-XSRFToken": self._xsrf("/hub/")}
        return self.http.request(method, f"{self.hub.url}/hub/api{path}", headers=headers, **kwargs)

    def start_server(self, seconds=120):
        """Spawn this person's JupyterLab and open it (the OAuth round trip sets its cookie)."""
        reply = self.hub_api("POST", f"/users/{quote(self.name)}/server")
        assert reply.status_code in (201, 202, 400), reply.text  # 400: already running
        deadline = time.monotonic() + seconds
        while not self.hub_api("GET", f"/users/{quote(self.name)}").json()["servers"].get("", {}).get("ready"):
            assert time.monotonic() < deadline, f"{self.name}'s server did not start in {seconds} s"
            time.sleep(0.5)
        self.http.get(f"{self.server}/lab").raise_for_status()
        return self

    def call(self, method, url, **kwargs):
        """A request to a server or service behind the proxy, with that server's XSRF token."""
        path = "/" + url.split("/", 3)[3]
        prefix = "/".join(path.split("/")[:3])  # /user/<name> or /services/<name>
        headers = {"X-XSRFToken": self._xsrf(prefix + "/") or self._xsrf(prefix)}
        reply = self.http.request(method, url, headers=headers, **kwargs)
        return reply

    def nbgrader(self, action, assignment, course):
        """Assignment List's buttons: fetch, submit, fetch_feedback."""
        data = {"course_id": course, "assignment_id": assignment}
        reply = self.call("POST", f"{self.server}/assignments/{action}", data=data)
        reply.raise_for_status()
        return reply.json()

    def contents(self, path):
        reply = self.call("GET", f"{self.server}/api/contents/{path}", params={"content": "1"})
        reply.raise_for_status()
        return reply.json()

    def save_notebook(self, path, notebook):
        reply = self.call("PUT", f"{self.server}/api/contents/{path}", json={"type": "notebook", "content": notebook})
        reply.raise_for_status()


def answer(person, example):
    """Fill the fetched notebook in the student's server as the example folder says."""
    path = f"{LAYOUT.course}/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    released = nbformat.from_dict(person.contents(path)["content"])
    source = nbformat.read(REPO / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    person.save_notebook(path, answer_like(REPO / "examples" / ASSIGNMENT / example, released, source))
    return path
