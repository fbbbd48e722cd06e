"""JupyterHub for the course (`make hub`; paths and names: course_utils.instructor.hub.HubLayout).

Everything listens on 127.0.0.1. Ports come from COURSE_HUB_PORT (the public one, default 8000);
the others follow it. docs/hub.md says what changes on a real server (TLS, authenticator, ...).
"""

import os

from course_utils.instructor.hub import LAYOUT, read_roster
from course_utils.instructor.lab import course_server_args

c = get_config()  # noqa: F821 (traitlets provides it)

people = read_roster(os.environ["COURSE_HUB_ROSTER"])
by_role = {role: [p["id"] for p in people if p["role"] == role] for role in ("student", "grader", "instructor")}
staff = by_role["instructor"] + by_role["grader"]
port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
service_url = f"http://127.0.0.1:{port + 3}"

# --- network: all on loopback; the standard proxy (configurable-http-proxy) in front
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 1}"
c.ConfigurableHTTPProxy.command = [str(LAYOUT.proxy)]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port + 2
c.JupyterHub.db_url = f"sqlite:///{LAYOUT.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(LAYOUT.state / "jupyterhub_cookie_secret")

# --- who may log in: the roster's Unix accounts, by password (PAM)
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {p["id"] for p in people}
c.Authenticator.admin_users = set(by_role["instructor"])

# --- each user's own JupyterLab, as their Unix user, with the extensions of their role
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(LAYOUT.venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.args = course_server_args(LAYOUT.lab_settings)  # make lab's: offline, encrypted kernel channels
c.Spawner.environment = {
    "PATH": f"{LAYOUT.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # the course's nbgrader
    "COURSE_EXCHANGE": str(LAYOUT.exchange),  # read by hub/roles/everyone/nbgrader_config.py
}
role_of = {p["id"]: p["role"] for p in people}


def role_environment(spawner):
    """Students get Assignment List and Validate; staff get Course List (see hub/roles/)."""
    role = role_of.get(spawner.user.name, "student")
    spawner.environment["JUPYTER_CONFIG_PATH"] = LAYOUT.config_path(role)


c.Spawner.pre_spawn_hook = role_environment

# --- the course: nbgrader's groups (which courses a user sees) and Formgrader as a hub service
course = LAYOUT.course
c.JupyterHub.load_groups = {
    f"nbgrader-{course}": {"users": by_role["student"]},
    f"formgrade-{course}": {"users": staff},
}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{course}",
        "groups": [f"formgrade-{course}"],
        "scopes": [f"access:services!service={course}", f"read:services!service={course}", "list:services"],
    },
    {  # JupyterHub's default server scopes, plus what nbgrader's course list reads: its user's groups
        "name": "server",  # and the services (not the user's other rights: an admin's server is not an admin)
        "scopes": [
            "users:activity!user",
            "access:servers!server",
            "read:users:groups!user",
            "list:services",
            "read:services",
        ],
    },
    {
        "name": f"{course}-service",
        "services": [course],
        "scopes": ["read:users", "read:users:groups", "groups", "list:services"],  # nbgrader's roster <-> groups
    },
]
c.JupyterHub.services = [
    {
        "name": course,
        "url": service_url,
        "user": LAYOUT.course_account,
        "cwd": str(LAYOUT.course_home),
        "command": [
            str(LAYOUT.venv / "bin" / "jupyterhub-singleuser"),
            f"--ServerApp.root_dir={LAYOUT.course_home}",
            *course_server_args(LAYOUT.lab_settings),
            # Formgrader's Autograde button: the course's one sudo rule (a list trait: one flag per item)
            *(f"--CourseFormgrader.grade_command={word}" for word in ("sudo", "-n", LAYOUT.grade_command)),
        ],
        "environment": {
            "JUPYTER_CONFIG_PATH": LAYOUT.config_path("course"),
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "COURSE_EXCHANGE": str(LAYOUT.exchange),
            "HOME": str(LAYOUT.course_home),
            "PATH": f"{LAYOUT.venv / 'bin'}:/usr/bin:/bin",
        },
        "oauth_no_confirm": True,
    }
]

# --- optional: LTI 1.3 launch from an LMS instead of PAM (COURSE_LTI = the platform's JSON; docs/lms.md)
if os.environ.get("COURSE_LTI"):
    load_subconfig(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lti_config.py"))  # noqa: F821
