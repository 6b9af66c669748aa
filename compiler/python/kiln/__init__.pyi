import enum
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]
Arrays = Union[np.ndarray, Sequence[np.ndarray], Dict[str, np.ndarray]]
CalibData = Union[np.ndarray, Dict[str, np.ndarray], Iterable[Union[np.ndarray, Dict[str, np.ndarray]]], PathLike]

__version__: str

class KilnError(Exception):
    message: str
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    layer: Optional[str]
    def __init__(self, message: str, *, file: Optional[str] = ..., line: Optional[int] = ...,
                 column: Optional[int] = ..., layer: Optional[str] = ...) -> None: ...

class ModelScriptError(KilnError): ...
class CalibrationError(KilnError): ...
class FileError(KilnError, OSError): ...
class InputError(KilnError, ValueError): ...
class ExecutableError(KilnError): ...
class KilnWarning(UserWarning): ...

class InferenceContext(enum.Enum):
    SDK_NATIVE = "native"
    SDK_FP_OPTIMIZED = "fp-optimized"
    SDK_QUANTIZED = "quantized"

class _InferContext:
    runner: "ClientRunner"
    context: InferenceContext
    def __enter__(self) -> "_InferContext": ...
    def __exit__(self, *exc: Any) -> bool: ...

class ClientRunner:
    hw_arch: str
    notes: List[str]
    compile_plan: Dict[str, Any]
    compile_summary: str
    mixed_precision: Optional[Dict[str, Any]]
    mixed_script: Optional[str]
    noise_analysis_summary: Optional[str]
    def __init__(self, hw_arch: str = "hailo8", har: Optional[PathLike] = None) -> None: ...
    @property
    def model_name(self) -> Optional[str]: ...
    @property
    def state(self) -> str: ...
    @property
    def inputs(self) -> List[Dict[str, Any]]: ...
    @property
    def outputs(self) -> List[Dict[str, Any]]: ...
    def translate_onnx_model(
        self,
        model: PathLike,
        net_name: Optional[str] = None,
        start_node_names: Optional[Union[str, Sequence[str]]] = None,
        end_node_names: Optional[Union[str, Sequence[str]]] = None,
        net_input_shapes: Optional[Dict[str, Sequence[int]]] = None,
        *,
        accept_suggested_cuts: bool = False,
    ) -> List[str]: ...
    def load_har(self, har: PathLike) -> None: ...
    def save_har(self, har_path: PathLike) -> None: ...
    def to_bytes(self) -> bytes: ...
    def load_model_script(self, model_script: Union[str, "os.PathLike[str]"], append: bool = False) -> None: ...
    def optimize(
        self,
        calib_data: Optional[CalibData] = None,
        *,
        calib_size: Optional[int] = None,
        random_calib: bool = False,
        report_samples: int = 16,
        strict: bool = False,
        progress: Optional[Callable[[str, int, int], None]] = None,
        target_snr: Optional[float] = None,
        target_gates: Optional[PathLike] = None,
        data: Optional[CalibData] = None,
        data_size: int = 16,
        max_16bit_fraction: float = 0.25,
        mixed_script_path: Optional[PathLike] = None,
        search_trials: int = 3,
    ) -> Optional[Dict[str, Any]]: ...
    def noise_report(self) -> Dict[str, Any]: ...
    def analyze_noise(
        self,
        data: CalibData,
        mode: str = "simple",
        data_size: int = 16,
        hw_arch: Optional[str] = None,
        top: int = 10,
        *,
        progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> Dict[str, Any]: ...
    def infer_context(self, context: InferenceContext) -> _InferContext: ...
    def infer(
        self,
        context: Union[_InferContext, InferenceContext],
        data: Arrays,
        *,
        raw: bool = False,
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> Union[np.ndarray, List[np.ndarray], Dict[str, np.ndarray]]: ...
    def compile(
        self,
        *,
        hw_arch: Optional[str] = None,
        model_script: Optional[PathLike] = None,
        fail_on_unfit: bool = False,
    ) -> bytes: ...

def hw_archs() -> List[str]: ...
def eval_targets() -> List[str]: ...
def evaluate(
    config_path: PathLike,
    targets: Union[str, Sequence[str]] = ("quantized",),
    data: Optional[PathLike] = None,
    size: Optional[int] = None,
    *,
    calib_size: Optional[int] = None,
    hw_arch: Optional[str] = None,
    output_dir: Optional[PathLike] = None,
    progress: Optional[Callable[[str, int, int], None]] = None,
) -> Dict[str, Any]: ...
