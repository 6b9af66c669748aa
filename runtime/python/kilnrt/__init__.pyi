import os
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

Inputs = Union[np.ndarray, Sequence[np.ndarray], Dict[str, np.ndarray]]
Outputs = Union[np.ndarray, List[np.ndarray], Dict[str, np.ndarray]]

class KilnrtError(Exception):
    """A .kef that cannot be loaded or a run that fails; the message names the file."""

class InputError(KilnrtError, ValueError):
    """Input arrays that cannot feed the model: another count, dtype or shape."""

class Session:
    """Runs one model; holds the activation memory. One per thread."""
    def run(self, inputs: Inputs, output_type: str = "float32", raw_outputs: bool = False) -> Outputs:
        """Runs the model; see help(kilnrt.Session.run)."""
    @property
    def last_run_seconds(self) -> float: ...
    @property
    def arena_bytes(self) -> int: ...
    @property
    def threads(self) -> int: ...

class Model:
    """A loaded, validated .kef executable."""
    def __init__(
        self,
        source: Union[str, "os.PathLike[str]", bytes, bytearray, memoryview],
        *,
        verify_checksums: bool = True,
        max_arena_bytes: int = 1 << 30,
        max_work: int = 1 << 40,
    ) -> None: ...
    def session(self, *, threads: int = 1) -> Session: ...
    @property
    def inputs(self) -> List[Dict[str, Any]]: ...
    @property
    def outputs(self) -> List[Dict[str, Any]]: ...
    @property
    def info(self) -> Dict[str, Any]: ...

__all__: List[str]
