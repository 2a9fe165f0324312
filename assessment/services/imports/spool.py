"""The spool of validated rows between the check phase and the write phase, and the batch sizes of both."""

import pickle
import tempfile

from ..bulk import CHUNK  # rows checked (and written) per database round trip: the one batch size

#: Validated rows kept in memory before the spool moves them to a temporary file.
SPILL_ROWS = 50_000


class Spool:
    """Validated records for the write phase: in memory, moved to a temporary file past SPILL_ROWS."""

    def __init__(self):
        self.buffer = []
        self.file = None
        self.count = 0

    def extend(self, records):
        """Keep validated records; past SPILL_ROWS in memory, move them to the temporary file."""
        self.buffer.extend(records)
        self.count += len(records)
        if len(self.buffer) >= SPILL_ROWS:
            if self.file is None:
                self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            pickle.dump(self.buffer, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.buffer = []

    def __iter__(self):
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    block = pickle.load(self.file)
                except EOFError:
                    break
                yield from block
        yield from self.buffer

    def chunks(self, size=None):
        """The records in their order, `size` (default CHUNK, read when called) at a time."""
        size = size or CHUNK
        chunk = []
        for record in self:
            chunk.append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self):
        """Remove the temporary file, if any."""
        if self.file is not None:
            self.file.close()
