"""The trends chart drawn on the server as SVG: lines per series across the years."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 230, 16, 36
# Distinct in hue and in dash, so the lines tell apart without colour too.
STYLES = (("#0b4f8a", ""), ("#a4161a", "6 4"), ("#1d6b35", "2 3"), ("#6a3d9a", "10 3 2 3"))


@dataclass(frozen=True)
class Line:
    """One series: its name, its points as SVG coordinates, and how it is drawn."""

    name: str
    points: str
    marks: list[tuple[float, float, int]]
    colour: str
    dash: str
    label_y: float


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the chart."""

    width: int
    height: int
    left: int
    right_edge: int
    top: int
    bottom_edge: int
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def _axis_top(highest: int) -> int:
    # A multiple of four, so the five ticks of the value axis are whole numbers.
    return max(4, -(-highest // 4) * 4)


def trend_chart(years: list[int], series: dict[str, list[int]]) -> Chart:
    """Lay out `series` (values per year, in the order of `years`) on the chart's axes."""
    right_edge, bottom_edge = WIDTH - RIGHT, HEIGHT - BOTTOM
    highest = max((v for values in series.values() for v in values), default=0)
    top_value = _axis_top(highest)

    def x(index: int) -> float:
        if len(years) < 2:
            return (LEFT + right_edge) / 2
        return LEFT + index * (right_edge - LEFT) / (len(years) - 1)

    def y(value: int) -> float:
        return bottom_edge - value * (bottom_edge - TOP) / top_value

    lines = []
    for number, (name, values) in enumerate(series.items()):
        colour, dash = STYLES[number % len(STYLES)]
        marks = [(round(x(i), 1), round(y(v), 1), v) for i, v in enumerate(values)]
        lines.append(
            Line(
                name,
                " ".join(f"{mx},{my}" for mx, my, _ in marks),
                marks,
                colour,
                dash,
                TOP + 14 + number * 20,
            )
        )
    y_ticks = [Tick(round(y(top_value * i // 4), 1), str(top_value * i // 4)) for i in range(5)]
    x_ticks = [Tick(round(x(i), 1), str(year)) for i, year in enumerate(years)]
    return Chart(WIDTH, HEIGHT, LEFT, right_edge, TOP, bottom_edge, lines, x_ticks, y_ticks)
