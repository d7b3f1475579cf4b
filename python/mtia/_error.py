# SPDX-License-Identifier: MIT
"""mtia.Error: every failure libmtia reports, with its status; mtia.CompileError:
every model the compiler refuses."""


class Error(RuntimeError):
    """A libmtia failure: str(e) is the runtime's message, e.status the
    mtia_status code (negative) and e.status_name its name, e.g.
    "MTIA_ERROR_INVALID_MODEL"."""

    def __init__(self, message, status=0, status_name=""):
        super().__init__(message)
        self.status = status
        self.status_name = status_name


class CompileError(ValueError):
    """A model the compiler refuses (mtia.compile_onnx, mtia.torch.compile):
    str(e) is mtia-compile's message naming the node and op or value at
    fault, e.kind one of "internal", "usage", "bad_input", "unsupported"."""

    def __init__(self, message, kind="internal"):
        super().__init__(message)
        self.kind = kind
