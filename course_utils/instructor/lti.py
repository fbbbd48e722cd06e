"""LTI 1.3 launch into the course's JupyterHub: who the user is, which course, which role.

``CourseLTIAuthenticator`` is jupyterhub-ltiauthenticator's ``LTI13Authenticator`` (it does the
OIDC login, checks the id_token's signature against the platform's JWKS, its issuer, audience,
expiry, nonce and state) plus what the course needs from a verified launch:

- the hub user name: the LTI subject ``sub`` (stable, never reused by the LMS), or the claim named
  by ``username_key`` (``custom_<name>`` for a custom parameter); it must be a valid nbgrader
  student id (letters, digits, ``_ . -``; JupyterHub lowercases it), else the launch is refused;
- the course: the launch's context claim ``id`` looked up in ``courses`` (``"*"``: any context);
  a launch from a context this hub does not serve is refused;
- the groups: ``nbgrader-<course>`` for a learner, ``formgrade-<course>`` for an instructor
  (``instructor_roles`` win over ``student_roles``); other roles are refused. The groups are the
  hub's (``manage_groups``), as nbgrader's ``JupyterHubAuthPlugin`` and the Formgrader role expect.

An instructor's launch logs the context's AGS line-items URL: ``c.CourseLMS.lineitems_url`` of
``course publish`` (docs/lms.md).
"""

import re

from ltiauthenticator.lti13.auth import LTI13Authenticator
from ltiauthenticator.lti13.error import LoginError
from traitlets import Bool, Dict, List, Unicode

CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SUB_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership/"  # sub-roles: .../membership/Instructor#Grader
STUDENT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")  # nbgrader folder names, the grade script's rule


class CourseLTIAuthenticator(LTI13Authenticator):
    """LTI13Authenticator mapping a launch to (user name, course, nbgrader group); see the module doc."""

    username_key = Unicode(
        "sub",
        config=True,
        help="id_token claim that becomes the hub user name: 'sub' (the LMS's stable user id), "
        "another claim, or 'custom_<name>' for a custom parameter",
    )
    manage_groups = Bool(True, config=True, help="groups come from each launch (nbgrader-/formgrade-<course>)")
    courses = Dict(
        value_trait=Unicode(),
        config=True,
        help="LMS context id (the launch's context claim 'id') -> nbgrader course id; '*' matches any context",
    )
    student_roles = List(
        Unicode(),
        [MEMBERSHIP + "Learner", "Learner"],
        config=True,
        help="LTI roles that make a user a student (group nbgrader-<course>)",
    )
    instructor_roles = List(
        Unicode(),
        [
            MEMBERSHIP + "Instructor",
            MEMBERSHIP + "ContentDeveloper",
            SUB_MEMBERSHIP + "Instructor#TeachingAssistant",
            SUB_MEMBERSHIP + "Instructor#Grader",
            "Instructor",
        ],
        config=True,
        help="LTI roles that make a user course staff (group formgrade-<course>); they win over student roles",
    )

    async def authenticate(self, handler, data=None):
        """The verified id_token -> {name, groups, auth_state}; LoginError (HTTP 400) when refused."""
        model = await super().authenticate(handler, data)
        token = data or {}
        name = model["name"].lower()
        if not STUDENT_ID.fullmatch(name):
            raise LoginError(
                f"claim {self.username_key!r} gives user name {model['name']!r}, not usable as a student id "
                "(letters, digits, _ . - only): set LTI13Authenticator.username_key to another claim"
            )
        course = self.course_of(token)
        role = self.role_of(token)
        group = f"formgrade-{course}" if role == "instructor" else f"nbgrader-{course}"
        self.log.info("LTI launch: %s as %s of %s (group %s)", name, role, course, group)
        if role == "instructor" and AGS_CLAIM in token:
            self.log.info("LTI launch: AGS line items of %s at %s", course, token[AGS_CLAIM].get("lineitems"))
        return {"name": name, "groups": [group], "auth_state": model.get("auth_state")}

    def course_of(self, token):
        """The nbgrader course id of the launch's context (LoginError when this hub does not serve it)."""
        context = (token.get(CONTEXT_CLAIM) or {}).get("id", "")
        course = self.courses.get(context) or self.courses.get("*")
        if not course:
            raise LoginError(
                f"this hub serves no course for the LMS context {context!r} (CourseLTIAuthenticator.courses)"
            )
        return course

    def role_of(self, token):
        """'instructor' or 'student' from the launch's roles (LoginError for any other role)."""
        roles = set(token.get(ROLES_CLAIM) or [])
        if roles & set(self.instructor_roles):
            return "instructor"
        if roles & set(self.student_roles):
            return "student"
        raise LoginError(f"the LMS roles {sorted(roles)} give no access to this course (neither student nor staff)")
