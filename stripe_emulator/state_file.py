"""The emulator's state in a file, so that a restarted emulator remembers what Stripe would.

`StateFile` guarantees: `save` writes the whole `Store.saved_state()` as JSON and
replaces the file atomically (a new file beside it, then a rename), so that a
reader, or an emulator killed mid-write, never finds half a state; saves from
several threads are written one at a time, each a state at least as new as the
one before. `load_into` refuses (`StateFileError`) a file it did not write.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from .store import Store

FORMAT = "stripe_emulator state"
VERSION = 1


class StateFileError(ValueError):
    """The file is not a state this emulator can read."""


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._writing = threading.Lock()

    def load_into(self, store: Store) -> bool:
        """Restore `store` from the file; False (and `store` untouched) if there is none yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        try:
            saved = json.loads(text)
            if saved.get("format") != FORMAT or saved.get("version") != VERSION:
                raise StateFileError(f"it is not {FORMAT} version {VERSION}")
            store.restore(saved["state"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StateFileError(
                f"{self.path} is not a state file of this emulator ({error}); "
                "move it away to start with no state"
            ) from error
        return True

    def save(self, store: Store) -> None:
        with self._writing:
            saved = {"format": FORMAT, "version": VERSION, "state": store.saved_state()}
            partial = self.path.with_name(f".{self.path.name}.partial")
            partial.write_text(json.dumps(saved), encoding="utf-8")
            os.replace(partial, self.path)
