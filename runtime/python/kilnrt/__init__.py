"""The Kiln runtime for Python: run a .kef executable on numpy arrays.

    import kilnrt
    model = kilnrt.Model("net.kef")          # or kilnrt.Model(kef_bytes)
    session = model.session()                 # one per thread
    outs = session.run({"x": img})            # float32 by default; output_type="auto" for raw

The values equal ``kilnrt infer``'s bit for bit. See docs/python.md.
"""
from ._kilnrt import InputError, KilnrtError, Model, Session

__all__ = ["Model", "Session", "KilnrtError", "InputError"]
