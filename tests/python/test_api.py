"""The Python API as a library: estimate() has a real signature whose help names its parameters and
units, an unknown keyword is a TypeError, a bad value a podperf.InputError naming the flag, and
Scenario/Result give the figures estimate gives. Environment: PYTHONPATH with the built module."""
import inspect
import pydoc

import podperf


def main():
    sig = inspect.signature(podperf.estimate)
    for name in ("system", "model", "mode", "tpot_ms", "batch", "seq_in", "recipe", "site"):
        assert name in sig.parameters, name
    text = pydoc.render_doc(podperf.estimate, renderer=pydoc.plaintext)
    for words in ("tpot_ms -- TPOT target in ms", "batch", "sequences per instance", "InputError"):
        assert words in text, words
    for call in (lambda: podperf.estimate(sistem="x"), lambda: podperf.estimate("gb200-nvl72", "llama3-70b", sistem="x")):
        try:
            call()
        except TypeError:
            pass
        else:
            raise AssertionError("an unknown keyword must raise TypeError")
    try:
        podperf.estimate("gb200-nvl72", "llama3-70b", tpot=25)
    except TypeError as e:
        assert "tpot" in str(e), e
    try:
        podperf.estimate("gb200-nvl72", "llama3-70b", mode="decode", tpot_ms=-3)
    except podperf.InputError as e:
        assert "--tpot-ms" in str(e), e
    else:
        raise AssertionError("a bad value must raise InputError")
    try:
        podperf.Scenario("gb200-nvl72", "llama3-70b", tpot=25)
    except TypeError:
        pass
    else:
        raise AssertionError("Scenario takes estimate()'s keywords only")
    sc = podperf.Scenario("gb200-nvl72", "llama3-70b", mode="decode", tpot_ms=25)
    r = sc.evaluate()
    e = podperf.estimate("gb200-nvl72", "llama3-70b", mode="decode", tpot_ms=25)
    assert r == e["result"]
    assert r["tpot_ms"] <= 25
    assert r.unit("usd_per_mtok") == "USD/Mtok" and r.better("usd_per_mtok") == "lower"
    # Serve reports cost per output token, power and reliability like the other modes.
    s = podperf.Scenario("gb200-nvl72", "deepseek-v3", tpot_ms=50).evaluate()
    for k in ("usd_per_mtok", "it_power_kw", "mtbf_system_h", "tokens_per_s_per_chip"):
        assert s[k] is not None and s[k] > 0, k
    print("ok")


if __name__ == "__main__":
    main()
