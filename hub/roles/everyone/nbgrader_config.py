"""nbgrader settings of every user's own server on the hub, students and staff (a course account reads its course's)."""

c = get_config()  # noqa: F821 (traitlets provides it)

c.Exchange.root = "/srv/nbgrader/exchange"  # shared by all courses of the hub (HubLayout.exchange)
c.Exchange.path_includes_course = True  # fetched work goes to ~/<course>/<assignment>
# Which courses a user sees comes from the hub's groups nbgrader-<course> / formgrade-<course>
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
