"""The ``stats`` chart as a PNG for Telegram (a photo): one line per keyword over the chat's
local days, with a legend, sized and lettered to be read on a phone.

matplotlib (Agg backend) through its object API only (``Figure`` + ``FigureCanvasAgg``): no
pyplot, so no global figure state and no GUI backend, and safe in a worker thread. It is
imported when the first chart is drawn, never at import time. Rendered charts are cached per
(chat, chart data): the same day's same numbers are drawn once.
"""

from __future__ import annotations

import io
from collections import OrderedDict

from handlers.commands import StatsChart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 5.0, 135  # 1080 x 675 px: a phone's full width
CACHE_SIZE = 128


def render_png(chart: StatsChart) -> bytes:
    """The chart as PNG bytes (slow: call it off the event loop)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.days)))
    for keyword, counts in chart.series:
        axes.plot(
            positions,
            counts,
            marker="o" if len(positions) <= 31 else None,
            linewidth=2.2,
            markersize=5,
            label=keyword,
        )
    step = max(1, -(-len(positions) // 7))  # at most 7 date labels
    ticks = positions[::step]
    axes.set_xticks(ticks, [chart.days[i].strftime("%d/%m") for i in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.set_title(chart.title, fontsize=15)
    axes.tick_params(labelsize=12)
    axes.grid(True, alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if chart.series:
        figure.legend(
            fontsize=12, loc="outside lower center", frameon=False, ncols=min(4, len(chart.series))
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class ChartCache:
    """Rendered PNGs by (chat, chart): a repeated ``/stats`` the same day costs nothing."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, StatsChart], bytes] = OrderedDict()

    def get(self, chat: str, chart: StatsChart) -> bytes | None:
        key = (chat, chart)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, chat: str, chart: StatsChart, png: bytes) -> None:
        self._items[(chat, chart)] = png
        self._items.move_to_end((chat, chart))
        while len(self._items) > self.size:
            self._items.popitem(last=False)
