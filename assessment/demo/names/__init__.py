"""Names and texts of the demo city (诸城-like, a county-level city in Shandong): plain data, no logic.

Nothing here is random; the demo package draws from these lists with its seeded generators. By kind: `org`
(towns, units, linkage departments, windows), `people` (names, phone prefixes), `texts` (what people write).
"""

from .org import *  # noqa: F403
from .people import *  # noqa: F403
from .texts import *  # noqa: F403
