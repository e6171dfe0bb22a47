"""Running a function in several new OS processes at once, as separate workers would.

Each process starts afresh (``spawn``: nothing inherited but the environment), sets Django
up with the test settings and the overrides given, then waits on one barrier with the
others, so that all of them call the function together. The function is named by its
dotted path, imported once Django is set up, as models must be.
"""

import multiprocessing
import traceback
from typing import Any

import django

PROCESS_TIMEOUT = 60


def _call_after_barrier(barrier, results, overrides: dict, function_path: str, args) -> None:
    try:
        django.setup()
        from django.test.utils import override_settings
        from django.utils.module_loading import import_string

        function = import_string(function_path)
        with override_settings(**overrides):
            barrier.wait(timeout=PROCESS_TIMEOUT)
            results.put(("ok", function(*args)))
    except BaseException:
        results.put(("error", traceback.format_exc()))


def call_in_processes(
    count: int, function_path: str, *args: Any, settings_overrides: dict
) -> list[Any]:
    """The function at ``function_path`` called with ``args`` at once in ``count`` new
    processes under ``settings_overrides``; each one's result, in no particular order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [
        context.Process(
            target=_call_after_barrier,
            args=(barrier, results, settings_overrides, function_path, args),
        )
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=PROCESS_TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=PROCESS_TIMEOUT)
            if process.is_alive():
                process.terminate()
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert not errors, "\n".join(errors)
    return [value for _, value in outcomes]
