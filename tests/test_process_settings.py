"""gaitgraph.process_settings: the malloc setting of the training processes."""

import subprocess
import sys

CODE = "from gaitgraph.process_settings import keep_freed_memory; print(keep_freed_memory())"


def run(env_value: str | None) -> str:
    import os

    env = dict(os.environ)
    env.pop("GAITGRAPH_KEEP_FREED_MEMORY", None)
    if env_value is not None:
        env["GAITGRAPH_KEEP_FREED_MEMORY"] = env_value
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_takes_effect_on_glibc_linux():
    expected = "True" if sys.platform.startswith("linux") else "False"
    assert run(None) == expected


def test_can_be_switched_off():
    assert run("0") == "False"
