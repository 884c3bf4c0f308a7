"""import podperf: dicts, DataFrames and exceptions from the command line run in-process.

Run by CTest with Debian's python3, PYTHONPATH=<build>/python, PODPERF_BINARY=<build>/podperf."""
import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib
import unittest

import podperf

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BINARY = os.environ["PODPERF_BINARY"]


def same_document(test, text_doc, tree_doc, path="$"):
    """The CLI's JSON text (numbers to 10 significant digits) against the module's document (full
    precision): equal structure and text, numbers within the text's rounding."""
    if isinstance(text_doc, dict):
        test.assertIsInstance(tree_doc, dict, path)
        test.assertEqual(list(text_doc), list(tree_doc), path)
        for k in text_doc:
            same_document(test, text_doc[k], tree_doc[k], f"{path}.{k}")
    elif isinstance(text_doc, list):
        test.assertEqual(len(text_doc), len(tree_doc), path)
        for i, (x, y) in enumerate(zip(text_doc, tree_doc)):
            same_document(test, x, y, f"{path}[{i}]")
    elif isinstance(text_doc, (int, float)) and not isinstance(text_doc, bool):
        test.assertIsInstance(tree_doc, (int, float), path)
        test.assertLessEqual(abs(text_doc - tree_doc), 6e-10 * abs(tree_doc), path)
    else:
        test.assertEqual(text_doc, tree_doc, path)


def cli(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, cwd=ROOT)


class Module(unittest.TestCase):
    def test_compare_rows_as_the_cli_gives_them(self):
        c = podperf.compare("cloudmatrix-384", "gb200-nvl72", samples=20)
        first = c["rows"][0]
        self.assertEqual(first["key"], "chips")
        self.assertEqual((first["a"], first["b"]), (384, 72))  # 384 Ascend 910C, 72 B200
        out = cli("compare", "cloudmatrix-384", "gb200-nvl72", "--samples", "20", "--json")
        self.assertEqual(out.returncode, 0)
        same_document(self, json.loads(out.stdout)["rows"], c["rows"])
        df = podperf.compare_frame("cloudmatrix-384", "gb200-nvl72", samples=0)
        self.assertAlmostEqual(df.loc["usd_per_mtok", "a"] / df.loc["usd_per_mtok", "b"], df.loc["usd_per_mtok", "ratio"])

    def test_estimate_with_a_fractional_target(self):
        e = podperf.estimate("gb200-nvl72", "llama3-70b", mode="decode", tpot_ms=25.5)
        self.assertTrue(e["fits"])
        self.assertLessEqual(e["tpot_ms"], 25.5)

    def test_bad_input_raises_with_the_cli_message(self):
        out = cli("estimate", "--system", "nosuch", "--model", "deepseek-v3")
        self.assertEqual(out.returncode, 2)
        with self.assertRaises(podperf.InputError) as e:
            podperf.estimate("nosuch", "deepseek-v3")
        self.assertEqual(str(e.exception), out.stderr.strip())
        with self.assertRaises(podperf.InputError) as e:
            podperf.estimate("gb200-nvl72", "deepseek-v3", tpot_ms=-3)
        self.assertIn("--tpot-ms", str(e.exception))
        with self.assertRaises(podperf.InputError):
            podperf.read_sweep("/nonexistent/out.h5")

    def test_models_and_hwdb(self):
        shipped = {f[:-5] for f in os.listdir(os.path.join(ROOT, "configs", "models")) if f.endswith(".toml")}
        self.assertEqual(set(podperf.models().index), shipped)
        self.assertIn("cloudmatrix-384", podperf.hwdb()["systems"])
        self.assertEqual(podperf.hwdb("ascend-910c")["kind"], "chip")

    def test_sweep_and_read_sweep(self):
        spec = os.path.join(ROOT, "tests", "sweeps", "small.toml")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "small.h5")
            df = podperf.sweep(spec, out=out, threads=1)
            # The spec's axes, counted independently of podperf: invalid points are skipped, so the
            # rows are the valid ones among the product.
            with open(spec, "rb") as fh:
                axes = tomllib.load(fh)["axes"]
            import h5py
            with h5py.File(out, "r") as f:
                rows = f["point"].shape[0]
                total = int(f.attrs["points_total"])
                usd = f["metrics/usd_per_mtok"][:]
                sys_codes = f["axes/system"][:]
            product = 1
            for v in axes.values():
                product *= len(v) if isinstance(v, list) else \
                    (int(round(math.log2(v["to"] / v["from"]))) + 1 if v.get("scale") == "log2"
                     else int(round((v["to"] - v["from"]) / v["step"])) + 1)
            self.assertEqual(total, product)
            self.assertEqual(len(df), rows)
            self.assertGreater(rows, 0)
            self.assertEqual(set(df["system"].cat.categories), set(axes["system"]))
            self.assertEqual(list(df["system"].cat.codes), list(sys_codes))
            self.assertTrue(((df["usd_per_mtok"].values == usd) | (df["usd_per_mtok"].isna().values)).all())
            self.assertEqual(df.attrs["units"]["usd_per_mtok"], "USD per million tokens")
            self.assertEqual(df.attrs["file"]["sweep_id"], "small")
            self.assertEqual(set(df["reason"].unique()), {"ok"})


    def test_the_host_lives_and_keeps_its_state(self):
        """A write failure raises InputError; Ctrl-C after a sweep still raises KeyboardInterrupt;
        --threads does not outlive its call; bad arguments and non-HDF5 files raise InputError."""
        import signal
        spec = os.path.join(ROOT, "tests", "sweeps", "small.toml")
        with tempfile.TemporaryDirectory() as d:
            # A target that is a directory's file under a FIFO, then a file-size limit: refused, raised.
            fifo = os.path.join(d, "fifo.h5")
            os.mkfifo(fifo)
            with self.assertRaises(podperf.InputError) as e:
                podperf.sweep(spec, out=fifo)
            self.assertIn("fifo.h5: exists and is not a regular file", str(e.exception))
            import resource
            soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
            try:
                with self.assertRaises(podperf.InputError):
                    podperf.run("docs", "man", "-o", os.path.join(d, "man.1"))
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            self.assertFalse(os.path.exists(os.path.join(d, "man.1")))
            # A sweep that runs out of room part-way: InputError naming the file, its journal kept.
            big = os.path.join(d, "big.toml")
            with open(big, "w") as f:
                f.write('id = "big"\ndescription = "room"\n[axes]\nsystem = ["gb200-nvl72", "cloudmatrix-384"]\n'
                        'model = ["llama3-70b", "deepseek-v3"]\ntp = [1, 2, 4, 8]\n'
                        'batch = { from = 1, to = 256, scale = "log2" }\nseq_in = [1024, 2048, 4096, 8192]\n'
                        'electricity_usd_kwh = { from = 0.002, to = 0.3, step = 0.002 }\n')
            resource.setrlimit(resource.RLIMIT_FSIZE, (1400000, hard))
            try:
                with self.assertRaises(podperf.InputError) as e:
                    podperf.run("sweep", big, "-o", os.path.join(d, "big.h5"), "--quiet", "--threads", "1",
                                "--chunk", "500")
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            self.assertTrue(str(e.exception).startswith(os.path.join(d, "big.h5") + ": "), str(e.exception))
            self.assertTrue(os.path.exists(os.path.join(d, "big.h5.part")))
            self.assertFalse(os.path.exists(os.path.join(d, "big.h5")))
            # SIGINT: Python's handler is back after a sweep.
            before = signal.getsignal(signal.SIGINT)
            podperf.sweep(spec, out=os.path.join(d, "a.h5"), threads=1)
            self.assertIs(signal.getsignal(signal.SIGINT), before)
            with self.assertRaises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
                import time
                time.sleep(1)
            # A file that is not HDF5, and arguments of the wrong type.
            junk = os.path.join(d, "junk.h5")
            with open(junk, "w") as f:
                f.write("not hdf5")
            with self.assertRaises(podperf.InputError):
                podperf.read_sweep(junk)
            with self.assertRaises(podperf.InputError):
                podperf.compare("gb200-nvl72", "cloudmatrix-384", figures=5)
            with self.assertRaises(podperf.InputError):
                podperf.estimate("gb200-nvl72", "llama3-70b", tpot_ms=float("nan"))
        # --threads 1 in one sweep leaves the next call's default alone: the summary reports it.
        with tempfile.TemporaryDirectory() as d:
            podperf.run("sweep", spec, "-o", os.path.join(d, "b.h5"), "--threads", "1")
            out = json.loads(podperf.run("sweep", spec, "-o", os.path.join(d, "c.h5"), "--json"))
            self.assertEqual(out["threads"], os.cpu_count() if "OMP_NUM_THREADS" not in os.environ else int(os.environ["OMP_NUM_THREADS"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
