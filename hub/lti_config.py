"""LTI 1.3 launch from an LMS into the course hub (docs/lms.md), instead of PAM passwords.

Loaded by jupyterhub_config.py only when COURSE_LTI names the platform's JSON file:

    {"issuer": "https://canvas.instructure.com",
     "client_id": "10000000000001",
     "authorize_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
     "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
     "courses": {"<LMS context id>": "dl-workbook"},    # or {"*": "dl-workbook"}
     "username_key": "sub"}                              # optional: the claim naming hub users

Who may log in is then the LMS's business: anyone it launches from a served context with a
student or staff role (``course_utils.instructor.lti.CourseLTIAuthenticator``), who lands in the
group nbgrader-<course> or formgrade-<course>. Each hub user still needs a Unix account of that
name for LocalProcessSpawner (docs/hub.md, "Authenticator").
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (traitlets provides it)

platform = json.loads(Path(os.environ["COURSE_LTI"]).read_text())
missing = [key for key in ("issuer", "client_id", "authorize_url", "jwks_url", "courses") if not platform.get(key)]
if missing:
    raise ValueError(f"{os.environ['COURSE_LTI']}: no {', '.join(missing)} (hub/lti_config.py says what each is)")

c.JupyterHub.authenticator_class = "course_utils.instructor.lti.CourseLTIAuthenticator"
c.CourseLTIAuthenticator.issuer = platform["issuer"]
c.CourseLTIAuthenticator.client_id = {platform["client_id"]}
c.CourseLTIAuthenticator.authorize_url = platform["authorize_url"]
c.CourseLTIAuthenticator.jwks_endpoint = platform["jwks_url"]
c.CourseLTIAuthenticator.courses = platform["courses"]
c.CourseLTIAuthenticator.username_key = platform.get("username_key", "sub")
c.Authenticator.allow_all = True  # the LMS decides; roles and the context are checked at each launch
c.Authenticator.allowed_users = set()
c.Authenticator.admin_users = set()
c.JupyterHub.load_groups = {}  # groups come from the launches (the authenticator manages them)


def role_from_groups(spawner):
    """Course staff (a formgrade-* group) get the instructor's JupyterLab, others the student's."""
    from course_utils.instructor.hub import LAYOUT

    staff = any(group.name.startswith("formgrade-") for group in spawner.user.groups)
    spawner.environment["JUPYTER_CONFIG_PATH"] = LAYOUT.config_path("instructor" if staff else "student")


c.Spawner.pre_spawn_hook = role_from_groups
