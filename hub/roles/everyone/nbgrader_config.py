"""nbgrader settings of every user's own server on the hub, students and staff (a course account reads its course's)."""

import os

c = get_config()  # noqa: F821 (traitlets provides it)

c.Exchange.root = os.environ["COURSE_EXCHANGE"]  # shared by the hub's courses (HubLayout.exchange, via the spawner)
c.Exchange.path_includes_course = True  # fetched work goes to ~/<course>/<assignment>
# Which courses a user sees comes from the hub's groups nbgrader-<course> / formgrade-<course>
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
