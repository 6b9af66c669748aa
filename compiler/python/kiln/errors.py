"""The exceptions of the kiln package.

Every error carries the message the ``kiln`` command line prints for the same problem, and the
place it names, parsed out of it: ``file``, ``line`` and ``column`` (model scripts, configs),
``layer`` (a Kiln layer or an ONNX node). Attributes the message does not name are None.
"""
import re

__all__ = [
    "KilnError", "ModelScriptError", "CalibrationError", "FileError", "InputError",
    "ExecutableError",
]

# "FILE:LINE:COL: error: ..." (model scripts, configs), as the first line.
_LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<column>\d+): ")
# A message that starts with a file name or path: "model.onnx: ...", "calib/x.npy: ...".
_FILE_FIRST = re.compile(r"^(?:runtime: )?(?P<file>[^\s:'\"]*[./][^\s:'\"]*): ")
_LAYER = re.compile(r"\b(?:layer|node) '?(?P<layer>[A-Za-z_][\w./:-]*?)'?(?=[\s:,;)]|$)")


class KilnError(Exception):
    """An error Kiln reports to the user: bad input, an unsupported model, a failed check.

    Attributes: message (the CLI's text), file, line, column, layer (None when not named).
    """

    def __init__(self, message, *, file=None, line=None, column=None, layer=None):
        super().__init__(message)
        self.message = message
        located = _LOCATED.match(message)
        if located:
            file = file or located.group("file")
            line = line or int(located.group("line"))
            column = column or int(located.group("column"))
        else:
            first = _FILE_FIRST.match(message)
            if first:
                file = file or first.group("file")
        named = _LAYER.search(message)
        if named:
            layer = layer or named.group("layer")
        self.file, self.line, self.column, self.layer = file, line, column, layer

    def __str__(self):
        return self.message


class ModelScriptError(KilnError):
    """A model script (.alls) that does not parse or validate: file, line and column set."""


class CalibrationError(KilnError):
    """A calibration set that cannot be read or does not fit the network's inputs."""


class FileError(KilnError, OSError):
    """A file that cannot be read or written, or a malformed .npy."""

    def __init__(self, message, **kw):
        KilnError.__init__(self, message, **kw)

    def __str__(self):
        return self.message


class InputError(KilnError, ValueError):
    """Arrays of the wrong count, dtype or shape for the network (infer, calibration arrays)."""


class ExecutableError(KilnError):
    """The runtime's checks failed on a program the compiler built (message starts 'runtime:')."""
