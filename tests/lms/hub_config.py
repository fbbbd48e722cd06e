"""A JupyterHub for the LTI tests: the course's LTI section (hub/lti_config.py) on free loopback ports.

Nothing is spawned and no proxy runs (the tests talk to the hub's own port); its state lives in
the folder LTI_TEST_STATE. A service token (LTI_TEST_TOKEN) may read users and groups.
"""

import os
from pathlib import Path

from jupyterhub.proxy import Proxy

c = get_config()  # noqa: F821 (traitlets provides it)
state = Path(os.environ["LTI_TEST_STATE"])


class NoProxy(Proxy):
    """Routes kept in memory: the tests reach the hub directly and spawn no server."""

    should_start = False
    routes = {}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c.JupyterHub.proxy_class = NoProxy
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ["LTI_TEST_PUBLIC_PORT"])  # never bound: no proxy runs
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["LTI_TEST_PORT"])
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = False
c.JupyterHub.services = [{"name": "lti-test", "api_token": os.environ["LTI_TEST_TOKEN"]}]
c.JupyterHub.load_roles = [{"name": "lti-test", "services": ["lti-test"], "scopes": ["read:users", "read:groups"]}]
c.JupyterHub.log_level = "INFO"

load_subconfig(str(Path(__file__).resolve().parents[2] / "hub" / "lti_config.py"))  # noqa: F821
