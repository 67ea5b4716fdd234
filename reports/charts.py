"""Small charts rendered by the server as SVG (no chart library, no script)."""

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 560, 200, 36


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


def bars(points: list[tuple[str, int]], fmt=str) -> dict:
    """points: (label, value) in order; returns geometry for the bar chart template. Bars rise
    from the zero line; with a negative value (the forecast's error) the zero line is in the
    middle and those bars fall below it."""
    reach = max((abs(value) for _, value in points), default=0) or 1
    signed = any(value < 0 for _, value in points)
    span = (HEIGHT - 2 * PAD) / (2 if signed else 1)
    zero = PAD + span
    slot = (WIDTH - 2 * PAD) / max(len(points), 1)
    shapes = []
    for i, (label, value) in enumerate(points):
        height = span * abs(value) / reach
        shapes.append(
            Bar(
                x=PAD + i * slot + slot * 0.15,
                y=zero - height if value >= 0 else zero,
                width=slot * 0.7,
                height=height,
                label=label,
                value=fmt(value),
            )
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "zero": zero,
        "bars": shapes,
        "top": fmt(reach),
        "bottom": fmt(-reach) if signed else "",
    }


def line(points: list[tuple[str, int]]) -> dict:
    top = max((value for _, value in points), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    coords = [
        (PAD + i * step, HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top)
        for i, (_, value) in enumerate(points)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "path": " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords)
        ),
        "dots": [
            {"x": x, "y": y, "label": label, "value": value}
            for (x, y), (label, value) in zip(coords, points, strict=True)
        ],
        "top": top,
    }
