"""Server-side SVG charts (no JavaScript, no CDN: pages and PDFs draw the same shapes).

`shapes`: geometry that a template draws (trend, score bars, contributions, check-point completion); `svg`:
finished charts shared by the console and the printed report (ranking, heat map); `results`: the results and
unit pages' own finished charts.
"""

from .results import compare_chart, distribution_chart, rank_intervals, share_bars
from .shapes import completion_chart, diverging_bars, score_bars, trend_chart
from .svg import GRADE_COLOURS, heat_colour, heat_map, ranking_chart

__all__ = [
    "GRADE_COLOURS",
    "compare_chart",
    "completion_chart",
    "distribution_chart",
    "diverging_bars",
    "heat_colour",
    "heat_map",
    "rank_intervals",
    "ranking_chart",
    "score_bars",
    "share_bars",
    "trend_chart",
]
