"""Charts drawn on the server as inline SVG: no JavaScript, no external assets. Colours are the
admin's CSS variables and text is `currentColor`, so they follow its light and dark themes."""

import math
from collections.abc import Mapping

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# The per-day chart's size in SVG units; it scales to the width of its box.
WIDTH, HEIGHT = 760, 220
LEFT, BOTTOM, TOP = 40, 24, 10

SENT_COLOUR = "var(--body-quiet-color)"
ANSWERS_COLOUR = "var(--link-fg)"


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at least `value` (the y axis' top)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def per_day(days: Mapping[str, Mapping[str, int]], *, label: str) -> SafeString:
    """Emails sent and answers received per day, side by side; hidden from screen readers, who get the table."""
    top = nice_ceiling(max((max(counts["sent"], counts["answers"]) for counts in days.values()), default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = max(slot * 0.38, 1)
    every = math.ceil(len(days) / 10)  # at most ten date labels

    def y(value: int) -> float:
        return TOP + plot_height - value / top * plot_height

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="var(--hairline-color)"/>'
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        ((LEFT, WIDTH, f"{y(v):.1f}", f"{y(v):.1f}", LEFT - 4, f"{y(v):.1f}", f"{v:g}") for v in (0, top / 2, top)),
    )
    bars = []
    for index, (day, counts) in enumerate(days.items()):
        x = LEFT + index * slot + slot * 0.1
        for offset, key, colour in ((0, "sent", SENT_COLOUR), (bar, "answers", ANSWERS_COLOUR)):
            value = counts[key]
            bars.append(
                format_html(
                    '<rect class="bar-{}" x="{}" y="{}" width="{}" height="{}" style="fill:{}">'
                    "<title>{}: {} {}</title></rect>",
                    key,
                    f"{x + offset:.1f}",
                    f"{y(value):.1f}",
                    f"{bar:.1f}",
                    f"{HEIGHT - BOTTOM - y(value):.1f}",
                    colour,
                    day,
                    value,
                    key,
                )
            )
        if index % every == 0:
            bars.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{x + bar:.1f}",
                    HEIGHT - BOTTOM + 14,
                    day[5:],
                )
            )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" preserveAspectRatio="xMinYMin meet" '
        'font-size="11" fill="currentColor">{}{}</svg>',
        WIDTH,
        HEIGHT,
        label,
        grid,
        SafeString("".join(bars)),
    )


def rate_bar(rate: float | None, *, width: int = 120) -> SafeString:
    """A small horizontal bar for a rate between 0 and 1 (decoration beside the number)."""
    filled = 0 if rate is None else round(min(rate, 1) * width, 1)
    return format_html(
        '<svg class="rate-bar" width="{}" height="10" aria-hidden="true" focusable="false">'
        '<rect width="{}" height="10" style="fill:var(--hairline-color)"/>'
        '<rect width="{}" height="10" style="fill:{}"/></svg>',
        width,
        width,
        filled,
        ANSWERS_COLOUR,
    )
