# SPDX-License-Identifier: MIT
"""mtia.Error: every failure libmtia reports, with its status."""


class Error(RuntimeError):
    """A libmtia failure: str(e) is the runtime's message, e.status the
    mtia_status code (negative) and e.status_name its name, e.g.
    "MTIA_ERROR_INVALID_MODEL"."""

    def __init__(self, message, status=0, status_name=""):
        super().__init__(message)
        self.status = status
        self.status_name = status_name
