"""kilnrt.Model / Session against `kilnrt infer`, bit for bit, and from several threads."""
import threading

import numpy as np
import pytest

import kilnrt
from conftest import DIGITS, same_array


def test_run_equals_kilnrt_infer(digits_cli, digits_kef):
    x = np.load(DIGITS / "test_x.npy")
    model = kilnrt.Model(digits_kef)
    session = model.session()
    (name, expected), = digits_cli.outputs["kilnrt_float32"]
    out = session.run(x)
    assert same_array(out, expected)
    assert same_array(session.run({model.inputs[0]["name"]: x})[name], expected)
    (_, raw), = digits_cli.outputs["kilnrt_auto"]
    assert same_array(session.run([x], output_type="auto")[0], raw)
    # kiln's quantized emulation gives the same numbers.
    assert same_array(out, digits_cli.outputs["quantized"][0][1])


def test_one_frame_and_device_integers(digits_kef):
    x = np.load(DIGITS / "test_x.npy")
    session = kilnrt.Model(digits_kef).session()
    one = session.run(x[:1])
    assert one.shape == (1, 10)
    assert same_array(one[0], session.run(x)[0])
    # uint8 inputs are the device integers, passed as they are: those of a float frame give
    # the same outputs as the float frame when the float values quantize exactly.
    stream = kilnrt.Model(digits_kef).inputs[0]
    q = np.clip(np.rint(x[:1] / stream["scale"] + stream["zero_point"]), 0, 255).astype(np.uint8)
    assert session.run(q, output_type="uint8").dtype == np.uint8


def test_model_from_bytes_and_info(digits_kef):
    data = digits_kef.read_bytes()
    a, b = kilnrt.Model(digits_kef), kilnrt.Model(data)
    x = np.load(DIGITS / "test_x.npy")
    assert same_array(a.session().run(x), b.session().run(x))
    assert a.info["net_name"] == "net" and a.info["hw_arch"] == "hailo8"
    assert a.info["file_bytes"] == len(data)
    assert a.outputs[0]["name"] == "logits" and a.inputs[0]["shape"] == (1, 1, 8, 8)


def test_bad_inputs_are_value_errors(digits_kef):
    session = kilnrt.Model(digits_kef).session()
    x = np.load(DIGITS / "test_x.npy")
    with pytest.raises(ValueError, match="expects float32 .* holds float64"):
        session.run(x.astype(np.float64))
    with pytest.raises(kilnrt.InputError, match=r"expects shape \[1, 1, 8, 8\]"):
        session.run(x[:, :, :4])
    with pytest.raises(ValueError, match="gave 2"):
        session.run([x, x])
    with pytest.raises(ValueError, match="holds no sample"):
        session.run(x[:0])
    with pytest.raises(ValueError, match="output_type"):
        session.run(x, output_type="int8")
    with pytest.raises(ValueError, match="threads"):
        kilnrt.Model(digits_kef).session(threads=0)


def test_corrupt_file_is_a_kilnrt_error(digits_kef, tmp_path):
    data = bytearray(digits_kef.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.kef"
    bad.write_bytes(bytes(data))
    with pytest.raises(kilnrt.KilnrtError, match=str(bad)):
        kilnrt.Model(bad)
    with pytest.raises(kilnrt.KilnrtError, match="missing.kef"):
        kilnrt.Model(tmp_path / "missing.kef")
    with pytest.raises(kilnrt.KilnrtError):
        kilnrt.Model(b"KEF")


def test_sessions_in_two_threads_give_identical_results(digits_kef):
    model = kilnrt.Model(digits_kef)
    x = np.repeat(np.load(DIGITS / "test_x.npy"), 3, axis=0)
    expected = model.session().run(x)
    results = [None, None]

    def work(k):
        session = model.session()
        for _ in range(5):
            out = session.run(x)
            if results[k] is None:
                results[k] = out
            assert same_array(out, results[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None and same_array(r, expected) for r in results)


def test_compile_bytes_run_in_kilnrt(digits_runner, digits_cli):
    model = kilnrt.Model(digits_runner.compile())
    x = np.load(DIGITS / "test_x.npy")
    assert same_array(model.session().run(x), digits_cli.outputs["kilnrt_float32"][0][1])
